package main; import "unsafe" // new_local: an allocation kept in the frame does not escape
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([2]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Add(a, 8); _ = b
    var c unsafe.Pointer; c = *(*unsafe.Pointer)(b); _ = c
    println(a)
    println(b)
    println(c)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
