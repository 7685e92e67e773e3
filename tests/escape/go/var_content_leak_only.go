package main; import "unsafe" // var_content_leak_only: leaking what x holds does not move x
var g unsafe.Pointer
func main() {
    var x unsafe.Pointer; _ = x
    x = unsafe.Pointer(new([1]unsafe.Pointer))
    var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(p); _ = v
    g = v
    println(g)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
