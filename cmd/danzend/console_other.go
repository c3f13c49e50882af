//go:build !gokrazy

package main

import (
	"io"
	"os"
)

// console: on a development machine, stderr is the console.
func console() io.Writer { return os.Stderr }
