package alert

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/danzen-gw/danzen/internal/atomicfile"
)

// savedSent is one announced condition in Options.StateFile.
type savedSent struct {
	Channel  string    `json:"channel"`
	Key      string    `json:"key"`
	At       time.Time `json:"at"`
	Severity int       `json:"severity"`
}

// load reads the state file; a missing or damaged one starts empty.
func (n *Notifier) load() {
	if n.stateFile == "" {
		return
	}
	b, err := os.ReadFile(n.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var saved []savedSent
	if err == nil {
		err = json.Unmarshal(b, &saved)
	}
	if err != nil {
		n.log.Warn("alert state unreadable: starting afresh (conditions still firing are announced again)", "file", n.stateFile, "err", err)
		return
	}
	for _, s := range saved {
		n.state[stateKey{s.Channel, s.Key}] = sent{at: s.At, sev: s.Severity}
	}
}

// save writes the state file after a delivery changed the state.
func (n *Notifier) save() {
	if n.stateFile == "" {
		return
	}
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	n.mu.Lock()
	saved := make([]savedSent, 0, len(n.state))
	for k, s := range n.state {
		saved = append(saved, savedSent{Channel: k.channel, Key: k.key, At: s.at, Severity: s.sev})
	}
	n.mu.Unlock()
	b, err := json.Marshal(saved)
	if err == nil {
		err = atomicfile.Write(n.stateFile, b, 0o600)
	}
	if err != nil {
		n.log.Error("alert state not saved: after a restart a cleared condition may not be announced", "file", n.stateFile, "err", err)
	}
}
