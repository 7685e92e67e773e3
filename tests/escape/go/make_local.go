package main; import "unsafe" // make_local: make's size is not a constant, so it is on the heap even unused
func main() {
    var s unsafe.Pointer; s = unsafe.Pointer(&make([]unsafe.Pointer, dyn_)[0]); _ = s
    var t unsafe.Pointer; t = unsafe.Add(s, 8); _ = t
    println(t)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
var dyn_ = 1 // a size the compiler cannot see
