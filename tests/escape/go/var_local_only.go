package main; import "unsafe" // var_local_only: &x kept in locals and read back: x stays on the stack
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
    var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
    println(q)
    println(p)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
