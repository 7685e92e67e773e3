package main; import "unsafe" // recursion_mutual_leak: a leak anywhere in the cycle reaches every parameter that feeds it
var gl unsafe.Pointer
func even(p, n unsafe.Pointer) {
    if n != nil {
        var m unsafe.Pointer; m = *(*unsafe.Pointer)(n); _ = m
        odd(p, m)
    }
}
func odd(p, n unsafe.Pointer) {
    gl = p
    if n != nil {
        var m unsafe.Pointer; m = *(*unsafe.Pointer)(n); _ = m
        even(p, m)
    }
}
func main() {
    var x unsafe.Pointer; _ = x
    var px unsafe.Pointer; px = unsafe.Pointer(&x); _ = px
    var c unsafe.Pointer; c = unsafe.Pointer(new([1]unsafe.Pointer)); _ = c
    even(px, c)
    println(gl)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
