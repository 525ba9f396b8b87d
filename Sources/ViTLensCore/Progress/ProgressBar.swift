import Foundation

/// A progress display on standard error for a batch of items (images) or a byte transfer (a
/// download): done and total, the current item, the rate, the elapsed time and an ETA.
///
/// ``ProgressStyle/bar`` redraws one line with `\r` (`name [=====>    ] 2/3 67% 0.80 img/s 0:03 ETA 0:01`),
/// fitted to the terminal width (`COLUMNS`, default 80); ``ProgressStyle/lines`` writes one plain
/// line per finished item (`[2/3] photo.jpg (0:03, ETA 0:01)`), for logs; ``ProgressStyle/silent``
/// writes nothing. The ETA is the mean time per finished item (or byte) times what is left; there
/// is none before the first item finishes. Safe to call from any thread.
///
/// ```swift
/// let bar = ProgressBar(total: paths.count, unit: .items("img"), style: try ProgressStyle.resolve(quiet: false))
/// for path in paths { bar.begin(path); analyse(path); bar.advance(path) }
/// bar.finish()
/// ```
public final class ProgressBar: @unchecked Sendable {
    /// What is counted.
    public enum Unit: Sendable, Equatable {
        /// Whole items; the rate reads `<name>/s` (`img/s`).
        case items(String)
        /// Bytes; sizes and rates in kB, MB, GB.
        case bytes
    }

    /// The number of items or bytes expected, when known.
    public let total: Int?
    public let unit: Unit
    public let style: ProgressStyle
    /// Columns available for the bar line.
    public let width: Int

    private let clock: @Sendable () -> Double
    private let output: @Sendable (String) -> Void
    private let lock = NSLock()
    private let started: Double
    private var done = 0
    private var current = ""
    private var lastDraw = -Double.infinity
    private var drawnLength = 0
    private var finished = false

    /// - Parameters:
    ///   - total: items or bytes expected (nil when unknown: no percentage, bar or ETA).
    ///   - unit: items (with the rate's name) or bytes.
    ///   - style: from ``ProgressStyle/resolve(quiet:environment:isTerminal:)``.
    ///   - label: the current item's name until ``begin(_:)`` names one (a download's file).
    ///   - width: columns for the bar; default `COLUMNS` from `environment`, else 80.
    ///   - environment: where `COLUMNS` is read.
    ///   - clock: seconds on a monotonic clock (tests inject one).
    ///   - write: where the text goes (default: standard error).
    public init(total: Int?, unit: Unit = .items("it"), style: ProgressStyle, label: String = "", width: Int? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                clock: @escaping @Sendable () -> Double = ProgressBar.monotonicSeconds,
                write: @escaping @Sendable (String) -> Void = ProgressBar.standardError) {
        self.total = total.map { max(0, $0) }
        self.unit = unit
        self.style = style
        let columns = width ?? environment["COLUMNS"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 80
        self.width = min(max(columns, 20), 1000)
        self.clock = clock
        self.output = write
        self.current = label
        started = clock()
    }

    /// Seconds since an arbitrary start, never going back.
    public static let monotonicSeconds: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Writes to standard error, unbuffered.
    public static let standardError: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    /// Names the item now being worked on (redraws the bar).
    public func begin(_ name: String) {
        lock.withLock {
            guard !finished else { return }
            current = name
            if style == .bar { draw(clock()) }
        }
    }

    /// Counts one finished item (`name`, default the current one); `failed` marks it in the lines style.
    public func advance(_ name: String? = nil, failed: Bool = false) {
        lock.withLock {
            guard !finished else { return }
            done += 1
            if let name { current = name }
            let now = clock()
            switch style {
            case .bar: draw(now)
            case .lines: output("[\(count)] \(current)\(failed ? " failed" : "") (\(timing(now, separator: ", ")))\n")
            case .silent: break
            }
        }
    }

    /// Sets the bytes (or items) done so far; the bar is redrawn at most ten times a second.
    public func update(done value: Int) {
        lock.withLock {
            guard !finished else { return }
            done = max(0, value)
            let now = clock()
            if style == .bar, now - lastDraw >= 0.1 || done == total { draw(now) }
        }
    }

    /// Ends the display: the bar's last state and a newline; for bytes in the lines style, one line
    /// with the size, time and rate. Later calls do nothing.
    public func finish(failed: Bool = false) {
        lock.withLock {
            guard !finished else { return }
            finished = true
            let now = clock()
            switch style {
            case .bar:
                draw(now)
                output("\n")
            case .lines where unit == .bytes:
                let elapsed = now - started
                let rate = elapsed > 0 && done > 0 ? ", \(ProgressFormat.bytes(Int(Double(done) / elapsed)))/s" : ""
                output("\(current): \(failed ? "failed after " : "")\(ProgressFormat.bytes(done)) in \(ProgressFormat.duration(elapsed))\(rate)\n")
            default: break
            }
        }
    }

    // MARK: - Rendering

    /// The bar line for the state at time `now` (no `\r`), at most `width - 1` characters.
    func line(at now: Double) -> String {
        let stats = statistics(now)
        let room = width - 1
        // The name gets a fixed column (a quarter of the line) so the bar does not jump between items.
        let column = max(10, room / 4)
        let name = ProgressFormat.truncated(current, to: column)
        let prefix = name.isEmpty ? "" : name + String(repeating: " ", count: column - name.count + 1)
        // The bar keeps one width while the numbers grow (room is kept for their longest usual form).
        let barWidth = min(room - prefix.count - reservedStatistics - 3, room - prefix.count - stats.count - 3)
        if let total, total > 0, barWidth >= 5 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * Double(barWidth))
            let head = filled < barWidth ? ">" : ""
            let bar = String(repeating: "=", count: filled) + head + String(repeating: " ", count: barWidth - filled - head.count)
            return prefix + "[" + bar + "] " + stats
        }
        let plain = prefix + stats
        return plain.count <= room ? plain : String(plain.prefix(room))
    }

    /// The length of the statistics at their longest usual form (times below 100 minutes).
    private var reservedStatistics: Int {
        let t = total ?? 0
        switch unit {
        case .items(let name): return "\(t)/\(t) 100% 0.00 \(name)/s 00:00 ETA 00:00".count
        case .bytes:
            let size = ProgressFormat.bytes(t).count + 1
            return size * 2 + " 100% ".count + size + "/s 00:00 ETA 00:00".count
        }
    }

    /// `2/3 67% 0.80 img/s 0:03 ETA 0:01` (parts that are not known yet are left out).
    private func statistics(_ now: Double) -> String {
        var parts = [count]
        if let total, total > 0 { parts.append("\(min(100, done * 100 / total))%") }
        let elapsed = now - started
        if elapsed > 0, done > 0 {
            let perSecond = Double(done) / elapsed
            switch unit {
            case .items(let name): parts.append("\(ProgressFormat.rate(perSecond)) \(name)/s")
            case .bytes: parts.append("\(ProgressFormat.bytes(Int(perSecond)))/s")
            }
        }
        parts.append(timing(now, separator: " "))
        return parts.joined(separator: " ")
    }

    /// `2/3`, or `12.3 MB/88.2 MB` for bytes (without the total when unknown).
    private var count: String {
        switch unit {
        case .items: return total.map { "\(done)/\($0)" } ?? "\(done)"
        case .bytes: return ProgressFormat.bytes(done) + (total.map { "/" + ProgressFormat.bytes($0) } ?? "")
        }
    }

    /// Elapsed time and, once something finished and the total is known, the ETA.
    private func timing(_ now: Double, separator: String) -> String {
        let elapsed = now - started
        var text = ProgressFormat.duration(elapsed)
        if let total, done > 0, done < total {
            text += separator + "ETA " + ProgressFormat.duration(elapsed / Double(done) * Double(total - done))
        } else if let total, done >= total, total > 0 {
            text += separator + "done"
        }
        return text
    }

    private func draw(_ now: Double) {
        let text = line(at: now)
        let pad = max(0, drawnLength - text.count)
        output("\r" + text + String(repeating: " ", count: pad))
        drawnLength = text.count
        lastDraw = now
    }
}
