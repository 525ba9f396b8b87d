import Foundation
import Testing
import ViTLensCore

/// A clock the test moves by hand, and a writer that keeps what the bar wrote.
private final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0.0
    private var chunks: [String] = []
    func set(_ t: Double) { lock.withLock { now = t } }
    var time: Double { lock.withLock { now } }
    func write(_ s: String) { lock.withLock { chunks.append(s) } }
    var writes: [String] { lock.withLock { chunks } }
    var text: String { writes.joined() }
    /// The last `\r`-drawn line, without its trailing padding.
    var lastLine: String {
        let drawn = writes.last { $0.hasPrefix("\r") } ?? ""
        return String(drawn.dropFirst()).replacingOccurrences(of: " +$", with: "", options: .regularExpression)
    }

    func bar(total: Int?, unit: ProgressBar.Unit = .items("img"), style: ProgressStyle = .bar, width: Int = 80, label: String = "") -> ProgressBar {
        ProgressBar(total: total, unit: unit, style: style, label: label, width: width, environment: [:],
                    clock: { self.time }, write: { self.write($0) })
    }
}

@Suite("Progress bar")
struct ProgressBarTests {
    @Test func barShowsCountPercentRateAndETAFromTheMeanItemTime() {
        let r = Recorder()
        let bar = r.bar(total: 4)
        bar.begin("a.jpg")
        #expect(r.lastLine.hasPrefix("a.jpg "))
        #expect(r.lastLine.hasSuffix("] 0/4 0% 0:00"), "no rate or ETA before the first item: \(r.lastLine)")
        r.set(2)
        bar.advance("a.jpg")
        #expect(r.lastLine.hasSuffix("] 1/4 25% 0.50 img/s 0:02 ETA 0:06"), "\(r.lastLine)")
        // 1 of 4 done: a quarter of the bar's cells are filled.
        let cells = r.lastLine.split(separator: "[")[1].split(separator: "]")[0]
        #expect(cells.filter { $0 == "=" }.count == cells.count / 4)
        r.set(10)
        bar.advance("b.jpg")
        bar.advance("c.jpg")
        bar.advance("d.jpg")
        #expect(r.lastLine.hasSuffix("] 4/4 100% 0.40 img/s 0:10 done"), "\(r.lastLine)")
        bar.finish()
        #expect(r.writes.last == "\n")
        #expect(r.lastLine.count <= 79)
        // The bar keeps its width while the numbers grow.
        #expect(Set(r.writes.filter { $0.hasPrefix("\r") }.map { $0.split(separator: "[")[1].split(separator: "]")[0].count }).count == 1)
        bar.advance("late")  // after finish: nothing
        #expect(r.writes.last == "\n")
    }

    @Test func bytesShowSizesRateAndETAAndAreThrottled() {
        let r = Recorder()
        let bar = r.bar(total: 88_000_000, unit: .bytes, label: "org/m: model.safetensors")
        bar.update(done: 0)
        r.set(2)
        bar.update(done: 44_000_000)
        #expect(r.lastLine.hasSuffix("] 44.0 MB/88.0 MB 50% 22.0 MB/s 0:02 ETA 0:02"), "\(r.lastLine)")
        let drawn = r.writes.count
        r.set(2.05)
        bar.update(done: 45_000_000)  // within 0.1 s of the last draw
        #expect(r.writes.count == drawn)
        r.set(4)
        bar.update(done: 88_000_000)
        #expect(r.lastLine.hasSuffix("] 88.0 MB/88.0 MB 100% 22.0 MB/s 0:04 done"), "\(r.lastLine)")
        // Unknown length: no percentage, bar or ETA.
        let u = Recorder()
        let open = u.bar(total: nil, unit: .bytes, label: "f")
        u.set(1)
        open.update(done: 1500)
        #expect(u.lastLine == "f" + String(repeating: " ", count: 19) + "1.5 kB 1.5 kB/s 0:01", "\(u.lastLine)")
    }

    @Test func longNamesAreCutToKeepTheLineWithinTheWidth() {
        let r = Recorder()
        let name = String(repeating: "d/", count: 60) + "my_photo.jpg"
        let bar = r.bar(total: 3, width: 80)
        bar.begin(name)
        #expect(r.lastLine.hasPrefix("...d/d/my_photo.jpg ["), "\(r.lastLine)")
        #expect(r.lastLine.count <= 79)
        #expect(!r.lastLine.contains("d/d/d/d/d/d/"))
        // Too narrow for a bar: name and numbers only, still within the width.
        let n = Recorder()
        let narrow = n.bar(total: 3, width: 20)
        n.set(5)
        narrow.advance(name)
        #expect(n.lastLine.count <= 19 && !n.lastLine.contains("["), "\(n.lastLine)")
        #expect(ProgressFormat.truncated("abcdefghij", to: 6) == "...hij")
        #expect(ProgressFormat.truncated("abc", to: 6) == "abc")
    }

    @Test func linesStyleWritesOnePlainLinePerItem() {
        let r = Recorder()
        let bar = r.bar(total: 2, style: .lines)
        bar.begin("a.jpg")
        #expect(r.writes.isEmpty)
        r.set(3)
        bar.advance("a.jpg")
        r.set(4)
        bar.advance("b.jpg", failed: true)
        bar.finish()
        #expect(r.text == "[1/2] a.jpg (0:03, ETA 0:03)\n[2/2] b.jpg failed (0:04, done)\n")
        #expect(!r.text.contains("\r") && !r.text.contains("\u{1B}"))
        let b = Recorder()
        let download = b.bar(total: 3_000_000, unit: .bytes, style: .lines, label: "org/m: model.safetensors")
        b.set(2)
        download.update(done: 3_000_000)
        download.finish()
        #expect(b.text == "org/m: model.safetensors: 3.0 MB in 0:02, 1.5 MB/s\n")
    }

    @Test func silentWritesNothing() {
        let r = Recorder()
        let bar = r.bar(total: 2, style: .silent)
        bar.begin("a")
        bar.advance()
        bar.update(done: 2)
        bar.finish()
        #expect(r.writes.isEmpty)
    }

    @Test func styleFollowsQuietThenTheVariableThenTheTerminal() throws {
        let always = ["VITLENS_PROGRESS": "always"], never = ["VITLENS_PROGRESS": "never"], auto = ["VITLENS_PROGRESS": "auto"]
        #expect(try ProgressStyle.resolve(quiet: false, environment: [:], isTerminal: true) == .bar)
        #expect(try ProgressStyle.resolve(quiet: false, environment: [:], isTerminal: false) == .lines)
        #expect(try ProgressStyle.resolve(quiet: false, environment: auto, isTerminal: false) == .lines)
        #expect(try ProgressStyle.resolve(quiet: false, environment: always, isTerminal: false) == .bar)
        #expect(try ProgressStyle.resolve(quiet: false, environment: never, isTerminal: true) == .silent)
        #expect(try ProgressStyle.resolve(quiet: true, environment: always, isTerminal: true) == .silent)
        #expect(try ProgressStyle.resolve(quiet: true, environment: [:], isTerminal: true) == .silent)
        #expect(throws: ProgressSettingError(value: "yes")) { try ProgressStyle.resolve(quiet: false, environment: ["VITLENS_PROGRESS": "yes"]) }
        #expect("\(ProgressSettingError(value: "yes"))" == "VITLENS_PROGRESS must be always, never or auto, got 'yes'")
    }

    @Test func widthComesFromColumns() {
        #expect(ProgressBar(total: 1, style: .bar, environment: ["COLUMNS": "120"]).width == 120)
        #expect(ProgressBar(total: 1, style: .bar, environment: [:]).width == 80)
        #expect(ProgressBar(total: 1, style: .bar, environment: ["COLUMNS": "junk"]).width == 80)
        #expect(ProgressBar(total: 1, style: .bar, environment: ["COLUMNS": "5"]).width == 20)
    }

    @Test func formats() {
        #expect(ProgressFormat.bytes(999) == "999 B")
        #expect(ProgressFormat.bytes(1500) == "1.5 kB")
        #expect(ProgressFormat.bytes(88_200_000) == "88.2 MB")
        #expect(ProgressFormat.bytes(1_500_000_000) == "1.50 GB")
        #expect(ProgressFormat.duration(65) == "1:05")
        #expect(ProgressFormat.duration(3725) == "1:02:05")
        #expect(ProgressFormat.duration(.nan) == "0:00")
        #expect(ProgressFormat.rate(0.4) == "0.40")
        #expect(ProgressFormat.rate(3.14) == "3.1")
        #expect(ProgressFormat.rate(27.4) == "27")
    }
}
