package main; import "unsafe" // var_to_global: storing &x in a global moves x to the heap
var g unsafe.Pointer
func main() {
    var x unsafe.Pointer; _ = x
    var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
    g = p
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
