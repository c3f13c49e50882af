package main

import (
	"io"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
)

// screen is where the CLI's text meets a person: one writer, one
// language (--lang, else LANG). It keeps the first write error, so a
// report of many lines need not check each one; the command returns it.
type screen struct {
	w    io.Writer
	lang msg.Lang
	tty  bool // w is a terminal: progress is a bar redrawn in place
	zone when.Zone
	err  error
}

// inZone has the CLI say times in cfg's time zone, as the page does: the
// process's own Local zone is UTC on the appliance. Until a command has
// read its configuration, times are UTC (labelled so).
func (c *cli) inZone(cfg *config.Config) {
	z := when.Of(cfg.TimeZone)
	c.out.zone, c.errs.zone = z, z
}

// say writes t in the screen's language as one line.
func (s *screen) say(t msg.Text) { s.write(t.Localize(s.lang) + "\n") }

// sayf writes a line made of plain text (names, numbers, a table row)
// and t in the screen's language.
func (s *screen) sayf(prefix string, t msg.Text) { s.write(prefix + t.Localize(s.lang) + "\n") }

// heading writes t as a heading after an empty line.
func (s *screen) heading(t msg.Text) { s.write("\n=== " + t.Localize(s.lang) + " ===\n") }

// line writes text that reads the same in every language.
func (s *screen) line(text string) { s.write(text + "\n") }

// write writes raw text (a terminal's control sequences included).
func (s *screen) write(text string) {
	if s.err != nil {
		return
	}
	_, s.err = io.WriteString(s.w, text)
}

// in renders an error in the screen's language.
func (s *screen) in(err error) string { return msg.In(err, s.lang) }

// Err is the first write that failed, if any.
func (s *screen) Err() error {
	if s.err != nil {
		return msg.Wrap(s.err, "出力を書き込めません", "cannot write the output")
	}
	return nil
}
