/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage.
struct TorchTensorInfo: Equatable {
    let storage: TorchStorageRef
    /// First element, in elements from the storage's start.
    let offset: Int
    let shape: [Int]
    /// Element strides, outermost first.
    let strides: [Int]

    /// Number of elements, product of the shape (checked when the view was built).
    var count: Int { shape.reduce(1, *) }

    /// Whether the view is row-major contiguous.
    var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() {
            if size != 1 && stride != expected { return false }
            expected *= size
        }
        return true
    }
}

extension TorchTensorInfo {
    /// The view `_rebuild_tensor_v2(storage, offset, size, stride, ...)` describes, after checking
    /// that sizes and strides are non-negative integers, that the element count fits `Int` and the
    /// storage, and that the furthest element lies inside the storage (all checked arithmetic).
    static func checked(storage: TorchStorageRef, offset: Int, size: [PickleValue], stride: [PickleValue],
                        fail: (String) -> TorchCheckpointError) throws -> TorchTensorInfo {
        func naturals(_ items: [PickleValue], _ what: String) throws -> [Int] {
            try items.map {
                guard case .int(let v) = $0, v >= 0 else { throw fail("\(what) \($0.kind) is not a non-negative integer") }
                return v
            }
        }
        let shape = try naturals(size, "size"), strides = try naturals(stride, "stride")
        guard shape.count == strides.count else { throw fail("\(shape.count) sizes but \(strides.count) strides") }
        guard shape.count <= 16 else { throw fail("\(shape.count) dimensions (at most 16 accepted)") }
        guard offset >= 0 else { throw fail("negative storage offset \(offset)") }
        var count = 1
        var last = offset
        for (n, s) in zip(shape, strides) {
            let (c, o1) = count.multipliedReportingOverflow(by: n)
            guard !o1 else { throw fail("shape \(shape) is too large") }
            count = c
            guard n > 0 else { continue }
            let (step, o2) = (n - 1).multipliedReportingOverflow(by: s)
            let (furthest, o3) = last.addingReportingOverflow(step)
            guard !o2, !o3 else { throw fail("strides \(strides) reach past any storage") }
            last = furthest
        }
        guard count <= storage.count else {
            throw fail("shape \(shape) has \(count) elements but its storage '\(storage.key)' holds \(storage.count)")
        }
        if count > 0, last >= storage.count {
            throw fail("shape \(shape), strides \(strides) and offset \(offset) reach element \(last), past the end of storage '\(storage.key)' (\(storage.count) elements)")
        }
        // A size-1 dimension never steps, whatever its stride says.
        let steps = zip(shape, strides).map { $0 <= 1 ? 0 : $1 }
        return TorchTensorInfo(storage: storage, offset: offset, shape: shape, strides: steps)
    }
}
