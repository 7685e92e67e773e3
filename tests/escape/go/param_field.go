package main; import "unsafe" // param_field: p + N is still p (field-insensitive): level=0
func fld(p unsafe.Pointer) unsafe.Pointer {
    var q unsafe.Pointer; q = unsafe.Add(p, 8); _ = q
    return q
return nil }
func main() {
    var n unsafe.Pointer; n = unsafe.Pointer(new([2]unsafe.Pointer)); _ = n
    var r unsafe.Pointer; r = fld(n); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
