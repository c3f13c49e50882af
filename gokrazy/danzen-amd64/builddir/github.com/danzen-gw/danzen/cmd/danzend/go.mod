module gokrazy/build/danzen-amd64

go 1.26

require github.com/danzen-gw/danzen v0.0.0-00010101000000-000000000000

// Local code, as gok sets it up for "gok add ./cmd/danzend": the image is
// built from this working tree (path relative to this go.mod: the repository root).
replace github.com/danzen-gw/danzen => ../../../../../../../..
