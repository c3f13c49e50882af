// Command configdoc writes docs/config.md, the reference of config.json,
// from the configuration's Go types (see package configdoc). `go generate
// ./config/` runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/danzen-gw/danzen/config/configdoc"
	"github.com/danzen-gw/danzen/internal/atomicfile"
)

func main() {
	out := flag.String("out", "docs/config.md", "where to write the page")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "configdoc:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	md, err := configdoc.Generate(wd)
	if err != nil {
		return err
	}
	return atomicfile.Write(out, md, 0o644)
}
