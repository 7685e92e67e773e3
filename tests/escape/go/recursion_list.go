package main; import "unsafe" // recursion_list: a recursive walk over a list built with stores (stored cells escape)
func length(p, acc unsafe.Pointer) unsafe.Pointer {
    if p != nil {
        var n unsafe.Pointer; n = *(*unsafe.Pointer)(p); _ = n
        var r unsafe.Pointer; r = length(n, p); _ = r
        return r
    }
    return acc
return nil }
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([1]unsafe.Pointer)); _ = b
    var c unsafe.Pointer; c = unsafe.Pointer(new([1]unsafe.Pointer)); _ = c
    *(*unsafe.Pointer)(a) = b
    *(*unsafe.Pointer)(b) = c
    var z unsafe.Pointer; z = nil; _ = z
    var r unsafe.Pointer; r = length(a, z); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
