package main; import "unsafe" // if_else_flows: both branches count (flow-insensitive)
var g unsafe.Pointer
func pick(c, p, q unsafe.Pointer) unsafe.Pointer {
    var r unsafe.Pointer; r = nil; _ = r
    if c != nil {
        r = p
    } else {
        g = q
    }
    return r
return nil }
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([1]unsafe.Pointer)); _ = b
    var r unsafe.Pointer; r = pick(a, a, b); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
