import Testing
import ViTLensCore

@Suite struct HalfStorageTests {
    /// Small buffers come from the heap, 4 MB and more are mapped (zero-filled); both hold what is
    /// written at both ends.
    @Test(arguments: [2, 1_000, 3 << 20])
    func holdsWhatIsWritten(count: Int) {
        let h = HalfStorage(count: count)
        #expect(h.count == count && h.buffer.count == count)
        h.pointer[0] = 0.5
        h.pointer[count - 1] = -65_504
        #expect(h.buffer[0] == 0.5 && h.buffer[count - 1] == -65_504)
        if count > 2 << 20 { #expect(h.pointer[count / 2] == 0) }
        let f = FloatStorage(count: count)
        f.pointer[count - 1] = 3
        #expect(f.buffer[count - 1] == 3)
    }
}
