package main; import "unsafe" // nil_values: nil carries nothing; the allocation stays
var g unsafe.Pointer
func main() {
    var n unsafe.Pointer; n = unsafe.Pointer(new([1]unsafe.Pointer)); _ = n
    var z unsafe.Pointer; z = nil; _ = z
    g = z
    println(n)
    println(z)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
