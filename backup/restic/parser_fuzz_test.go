package restic

import (
	"encoding/json"
	"testing"
)

// FuzzParser: whatever restic (or something in its place) prints, the
// parser never panics, hands on only valid JSON objects, keeps a bounded
// tail, and sees the same events however the stream is cut into writes.
func FuzzParser(f *testing.F) {
	f.Add(cannedStdout, cannedStderr, uint8(7))
	f.Add(`[{"tags":null,"host":"gw","keep":[{"id":"ab"}],"remove":[{"id":"cd","time":"x"}]}]`, "", uint8(1))
	f.Add(`{"message_type":"summary","snapshot_id":5,"data_added":"x"}`, `{"message_type":"exit_error","code":"3"}`, uint8(2))
	f.Add(`{"message_type":"error","error":null,"item":[]}`+"\n{\"message_type\":\"status\",\"percent_done\":1e999}", "\r\r\n{}\r", uint8(0))
	f.Add("{\"message_type\":\"verbose_status\"}\n\x00\xff{\n[", "Fatal: wrong password or no key found\n", uint8(255))
	f.Fuzz(func(t *testing.T, stdout, stderr string, cut uint8) {
		feed := func(step int) []Event {
			var evs []Event
			p := newParser("backup", func(e Event) { evs = append(evs, e) }, nil)
			for _, s := range []struct {
				stream, text string
			}{{"stdout", stdout}, {"stderr", stderr}} {
				w := &lineWriter{p: p, stream: s.stream}
				for b := []byte(s.text); len(b) > 0; {
					n := min(step, len(b))
					if _, err := w.Write(b[:n]); err != nil {
						t.Fatal(err)
					}
					b = b[n:]
				}
				w.flush()
			}
			if len(p.tailLines()) > maxTail {
				t.Fatalf("tail holds %d lines, more than %d", len(p.tailLines()), maxTail)
			}
			if raw, ok := p.lastArray(); ok && !json.Valid(raw) {
				t.Fatalf("array %q is not JSON", raw)
			}
			if x := p.exitStatus(); x != nil {
				if ev, ok := p.lastEvent(KindExitError); !ok || ev.Exit != x {
					t.Fatal("exit status without its event")
				}
			}
			var fr ForgetResult
			if raw, ok := p.lastArray(); ok {
				_ = json.Unmarshal(raw, &fr.Groups) // any input will do: only a panic would fail
				fr.Removed()
				fr.Kept()
			}
			return evs
		}
		whole, pieces := feed(1<<30), feed(1+int(cut)%17)
		if len(whole) != len(pieces) {
			t.Fatalf("%d events fed whole, %d fed in pieces of %d", len(whole), len(pieces), 1+int(cut)%17)
		}
		for i, ev := range whole {
			if !json.Valid(ev.Raw) || ev.Raw[0] != '{' {
				t.Fatalf("event %d is not a JSON object: %q", i, ev.Raw)
			}
			if string(ev.Raw) != string(pieces[i].Raw) || ev.Kind != pieces[i].Kind {
				t.Fatalf("event %d differs by how the stream was cut: %q vs %q", i, ev.Raw, pieces[i].Raw)
			}
			if ev.Summary != nil && ev.Kind != KindSummary || ev.Exit != nil && ev.Kind != KindExitError {
				t.Fatalf("event %d of kind %q carries another kind's data", i, ev.Kind)
			}
		}
	})
}
