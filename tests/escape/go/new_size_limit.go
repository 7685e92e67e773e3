package main; import "unsafe" // new_size_limit: new over 64 KiB (MaxImplicitStackVarSize) is always on the heap
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([8192]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([65537]byte)); _ = b
    var c unsafe.Pointer; c = unsafe.Pointer(new([8193]unsafe.Pointer)); _ = c
    println(a)
    println(b)
    println(c)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
