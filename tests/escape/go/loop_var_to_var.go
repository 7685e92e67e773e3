package main; import "unsafe" // loop_var_to_var: y = &x for vars of the same loop: stays; of an outer var: moves
func main() {
    var out unsafe.Pointer; _ = out
    for i_ := 0; i_ < 2; i_++ {
        var x unsafe.Pointer; _ = x
        var y unsafe.Pointer; _ = y
        y = unsafe.Pointer(&x)
        var z unsafe.Pointer; _ = z
        out = unsafe.Pointer(&z)
        var v unsafe.Pointer; v = y; _ = v
        println(v)
    }
    var w unsafe.Pointer; w = out; _ = w
    println(w)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
