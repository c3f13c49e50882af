package relay_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/clayout"
)

// periphStructs maps each struct of periph's gpioioctl (its own copy of
// the kernel's GPIO v2 uAPI, which relay drives the Pi header and amd64
// boards' GPIO through) to the C struct, and each Go field to the C member
// at the same place. Every struct and field periph declares must be here.
var periphStructs = map[string]struct {
	c      string
	fields map[string]string
}{
	"gpiochip_info": {"gpiochip_info", map[string]string{"name": "name", "label": "label", "lines": "lines"}},
	// value is periph's name for the union of flags, values and debounce_period_us.
	"gpio_v2_line_attribute":        {"gpio_v2_line_attribute", map[string]string{"id": "id", "padding": "padding", "value": "flags"}},
	"gpio_v2_line_config_attribute": {"gpio_v2_line_config_attribute", map[string]string{"attr": "attr", "mask": "mask"}},
	"gpio_v2_line_config": {"gpio_v2_line_config", map[string]string{
		"flags": "flags", "num_attrs": "num_attrs", "padding": "padding", "attrs": "attrs"}},
	"gpio_v2_line_request": {"gpio_v2_line_request", map[string]string{
		"offsets": "offsets", "consumer": "consumer", "config": "config", "num_lines": "num_lines",
		"event_buffer_size": "event_buffer_size", "padding": "padding", "fd": "fd"}},
	"gpio_v2_line_values": {"gpio_v2_line_values", map[string]string{"bits": "bits", "mask": "mask"}},
	"gpio_v2_line_info": {"gpio_v2_line_info", map[string]string{
		"name": "name", "consumer": "consumer", "offset": "offset", "num_attrs": "num_attrs",
		"flags": "flags", "attrs": "attrs", "padding": "padding"}},
	"gpio_v2_line_event": {"gpio_v2_line_event", map[string]string{
		"Timestamp_ns": "timestamp_ns", "Id": "id", "Offset": "offset", "Seqno": "seqno",
		"LineSeqno": "line_seqno", "Padding": "padding"}},
}

// periphIoctls maps each of periph's ioctl wrappers to the request the
// kernel defines for it.
var periphIoctls = map[string]string{
	"ioctl_gpiochip_info":           "GPIO_GET_CHIPINFO_IOCTL",
	"ioctl_gpio_v2_line_info":       "GPIO_V2_GET_LINEINFO_IOCTL",
	"ioctl_gpio_v2_line_request":    "GPIO_V2_GET_LINE_IOCTL",
	"ioctl_gpio_v2_line_config":     "GPIO_V2_LINE_SET_CONFIG_IOCTL",
	"ioctl_get_gpio_v2_line_values": "GPIO_V2_LINE_GET_VALUES_IOCTL",
	"ioctl_set_gpio_v2_line_values": "GPIO_V2_LINE_SET_VALUES_IOCTL",
}

// TestPeriphGPIOv2Layout checks periph's GPIO v2 structures, request
// numbers and flag constants, as the gc compiler lays them out for arm64
// (Raspberry Pi) and amd64, against <linux/gpio.h> compiled for each. The
// structures are unexported in periph, so they are read from the source of
// the version this module builds with and sized by go/types with gc's
// layout rules for each architecture: a periph upgrade is checked anew.
func TestPeriphGPIOv2Layout(t *testing.T) {
	src := periphIoctlSource(t)
	for _, goarch := range []string{"arm64", "amd64"} {
		t.Run(goarch, func(t *testing.T) {
			if _, pkg, err := clayout.Compiler(goarch); err != nil && testing.Short() {
				t.Skipf("needs %s, which make test installs: -short skips it without", pkg)
			}
			goVals := src.values(t, goarch)
			exprs := make([]string, 0, len(goVals))
			for _, v := range goVals {
				exprs = append(exprs, v.c)
			}
			cVals, err := clayout.Values(t.Context(), goarch, []string{"linux/gpio.h"}, exprs)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range goVals {
				if c := cVals[v.c]; c != v.got {
					t.Errorf("%s: periph %d (%#x), kernel %s = %d (%#x)", name, v.got, v.got, v.c, c, c)
				}
			}
			if !t.Failed() {
				t.Logf("%d sizes, offsets, request numbers and flags agree for %s", len(goVals), goarch)
			}
		})
	}
}

type periphSource struct {
	dir   string
	fset  *token.FileSet
	file  *ast.File
	decls *ast.File // the const and type declarations alone, to type-check without imports
}

// periphIoctlSource parses gpioioctl/ioctl.go of the periph.io/x/host/v3
// this module requires.
func periphIoctlSource(t *testing.T) *periphSource {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", "periph.io/x/host/v3").Output()
	if err != nil {
		t.Fatalf("go list -m periph.io/x/host/v3: %v", err)
	}
	var mod struct{ Version, Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go list -m periph.io/x/host/v3: %v (%s); run go mod download", err, out)
	}
	t.Logf("periph.io/x/host/v3 %s", mod.Version)
	s := &periphSource{dir: filepath.Join(mod.Dir, "gpioioctl"), fset: token.NewFileSet()}
	s.file, err = parser.ParseFile(s.fset, filepath.Join(s.dir, "ioctl.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.decls = &ast.File{Name: s.file.Name}
	for _, d := range s.file.Decls {
		if g, ok := d.(*ast.GenDecl); ok && (g.Tok == token.CONST || g.Tok == token.TYPE) {
			s.decls.Decls = append(s.decls.Decls, g)
		}
	}
	return s
}

// goValue is one number of periph's as compiled for an architecture, and
// the C expression of the kernel's that it must equal.
type goValue struct {
	got uint64
	c   string
}

// values lays out periph's declarations for goarch.
func (s *periphSource) values(t *testing.T, goarch string) map[string]goValue {
	t.Helper()
	sizes := types.SizesFor("gc", goarch)
	conf := types.Config{Sizes: sizes}
	pkg, err := conf.Check("gpioioctl", s.fset, []*ast.File{s.decls}, nil)
	if err != nil {
		t.Fatalf("type-checking periph's declarations for %s: %v", goarch, err)
	}
	vals := make(map[string]goValue)
	s.structValues(t, pkg, sizes, vals)
	s.ioctlValues(t, pkg, sizes, vals)
	constValues(t, pkg, vals)
	return vals
}

// structValues adds each struct's size and each field's offset and size.
func (s *periphSource) structValues(t *testing.T, pkg *types.Package, sizes types.Sizes, vals map[string]goValue) {
	t.Helper()
	var declared []string
	for _, name := range pkg.Scope().Names() {
		st, ok := pkg.Scope().Lookup(name).Type().Underlying().(*types.Struct)
		if _, isType := pkg.Scope().Lookup(name).(*types.TypeName); !ok || !isType {
			continue
		}
		declared = append(declared, name)
		want, known := periphStructs[name]
		if !known {
			t.Errorf("periph declares struct %s, which this test does not map to <linux/gpio.h>", name)
			continue
		}
		vals["sizeof "+name] = goValue{uint64(sizes.Sizeof(st)), "sizeof(struct " + want.c + ")"}
		fields := make([]*types.Var, st.NumFields())
		for i := range fields {
			fields[i] = st.Field(i)
		}
		offsets := sizes.Offsetsof(fields)
		for i, f := range fields {
			member, known := want.fields[f.Name()]
			if !known {
				t.Errorf("periph's %s has field %s, which this test does not map", name, f.Name())
				continue
			}
			vals[name+"."+f.Name()+" offset"] = goValue{uint64(offsets[i]), fmt.Sprintf("offsetof(struct %s, %s)", want.c, member)}
			vals[name+"."+f.Name()+" size"] = goValue{uint64(sizes.Sizeof(f.Type())), fmt.Sprintf("sizeof(((struct %s *)0)->%s)", want.c, member)}
		}
		if st.NumFields() != len(want.fields) {
			t.Errorf("periph's %s has %d fields, the test maps %d", name, st.NumFields(), len(want.fields))
		}
	}
	for name := range periphStructs {
		if !slices.Contains(declared, name) {
			t.Errorf("periph no longer declares %s: update the test's map", name)
		}
	}
}

// ioctlValues adds the request number of each ioctl wrapper: periph
// computes it as _IOR/_IOWR(type, nr, unsafe.Sizeof(T{})).
func (s *periphSource) ioctlValues(t *testing.T, pkg *types.Package, sizes types.Sizes, vals map[string]goValue) {
	t.Helper()
	dirs := map[string]uint64{"_IOR": 2, "_IOW": 1, "_IOWR": 3}
	found := make(map[string]bool)
	for _, d := range s.file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			id, ok := call.Fun.(*ast.Ident)
			if !ok {
				return true
			}
			dir, isIoc := dirs[id.Name]
			if !isIoc {
				return true
			}
			macro, known := periphIoctls[fn.Name.Name]
			if !known {
				t.Errorf("%s issues an ioctl that this test does not map to <linux/gpio.h>", fn.Name.Name)
				return false
			}
			typ, nr, size, err := iocArgs(call, pkg, sizes)
			if err != nil {
				t.Errorf("%s: %v", fn.Name.Name, err)
				return false
			}
			found[fn.Name.Name] = true
			vals[fn.Name.Name+" request"] = goValue{dir<<30 | size<<16 | typ<<8 | nr, macro}
			return false
		})
	}
	for name := range periphIoctls {
		if !found[name] {
			t.Errorf("periph has no %s any more: update the test's map", name)
		}
	}
}

// iocArgs evaluates _IOC*(typ, nr, unsafe.Sizeof(T{})).
func iocArgs(call *ast.CallExpr, pkg *types.Package, sizes types.Sizes) (typ, nr, size uint64, err error) {
	if len(call.Args) != 3 {
		return 0, 0, 0, fmt.Errorf("%d arguments to the request macro", len(call.Args))
	}
	lit := func(e ast.Expr) (uint64, error) {
		b, ok := e.(*ast.BasicLit)
		if !ok {
			return 0, fmt.Errorf("request argument %T is not a literal", e)
		}
		return strconv.ParseUint(b.Value, 0, 64)
	}
	if typ, err = lit(call.Args[0]); err != nil {
		return
	}
	if nr, err = lit(call.Args[1]); err != nil {
		return
	}
	sz, ok := call.Args[2].(*ast.CallExpr)
	if !ok || len(sz.Args) != 1 {
		return 0, 0, 0, fmt.Errorf("request size is not unsafe.Sizeof(T{})")
	}
	var obj types.Object
	if cl, ok := sz.Args[0].(*ast.CompositeLit); ok {
		if id, ok := cl.Type.(*ast.Ident); ok {
			obj = pkg.Scope().Lookup(id.Name)
		}
	}
	if obj == nil {
		return 0, 0, 0, fmt.Errorf("request size is not unsafe.Sizeof of a declared struct")
	}
	return typ, nr, uint64(sizes.Sizeof(obj.Type())), nil
}

// constValues adds periph's _GPIO_* constants, which carry the kernel's
// names with a leading underscore.
func constValues(t *testing.T, pkg *types.Package, vals map[string]goValue) {
	t.Helper()
	for _, name := range pkg.Scope().Names() {
		c, ok := pkg.Scope().Lookup(name).(*types.Const)
		if !ok || !strings.HasPrefix(name, "_GPIO_") {
			continue
		}
		v, exact := constant.Uint64Val(c.Val())
		if !exact {
			t.Errorf("%s = %s is not an unsigned integer", name, c.Val())
			continue
		}
		vals[name] = goValue{v, strings.TrimPrefix(name, "_")}
	}
}
