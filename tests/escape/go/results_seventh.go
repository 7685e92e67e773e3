package main; import "unsafe" // results_seventh: Go 1.19 tracks 7 results; the 8th counts as the heap
func f(p, q unsafe.Pointer) (unsafe.Pointer, unsafe.Pointer, unsafe.Pointer, unsafe.Pointer, unsafe.Pointer, unsafe.Pointer, unsafe.Pointer, unsafe.Pointer) {
    var n unsafe.Pointer; n = nil; _ = n
    return n, n, n, n, n, n, p, q
return nil, nil, nil, nil, nil, nil, nil, nil }
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([1]unsafe.Pointer)); _ = b
    var r0, r1, r2, r3, r4, r5, r6, r7 unsafe.Pointer; r0, r1, r2, r3, r4, r5, r6, r7 = f(a, b); _, _, _, _, _, _, _, _ = r0, r1, r2, r3, r4, r5, r6, r7
    println(r6)
    println(r7)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
