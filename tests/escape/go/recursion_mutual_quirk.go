package main; import "unsafe" // recursion_mutual_quirk: in a mutually recursive batch, a flow to the other function's result counts as the heap
func f(p unsafe.Pointer) unsafe.Pointer {
    var r unsafe.Pointer; r = g(p); _ = r
    return r
return nil }
func g(p unsafe.Pointer) unsafe.Pointer {
    if p != nil {
        var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
        var s unsafe.Pointer; s = f(q); _ = s
        println(s)
    }
    return p
return nil }
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    var r unsafe.Pointer; r = f(a); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
