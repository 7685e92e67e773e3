package main; import "unsafe" // make_holds: a pointer stored into a make'd object escapes
func main() {
    var x unsafe.Pointer; _ = x
    var s unsafe.Pointer; s = unsafe.Pointer(&make([]unsafe.Pointer, dyn_)[0]); _ = s
    var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
    *(*unsafe.Pointer)(s) = p
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(s); _ = v
    println(v)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
var dyn_ = 1 // a size the compiler cannot see
