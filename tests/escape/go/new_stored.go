package main; import "unsafe" // new_stored: storing an allocation through any pointer sends it to the heap
func main() {
    var box unsafe.Pointer; box = unsafe.Pointer(new([1]unsafe.Pointer)); _ = box
    var item unsafe.Pointer; item = unsafe.Pointer(new([3]unsafe.Pointer)); _ = item
    *(*unsafe.Pointer)(box) = item
    var v unsafe.Pointer; v = *(*unsafe.Pointer)(box); _ = v
    println(v)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
