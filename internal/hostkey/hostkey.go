// Package hostkey compares the host key an e-chart server offers with the
// keys an SSH account pins, for the two places a person pins one: the
// page's fetch-and-confirm and `danzen hostkey`. A key other than the
// pinned one is CHANGED, never a first contact, and accepting it retires
// the keys pinned for that address: both stay trusted otherwise, and an
// impostor with the old key would be pulled from.
package hostkey

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// State is what an offered key is to an account's pinned keys.
type State int

const (
	// First: no key is pinned for the address; pinning is a first contact.
	First State = iota
	// Pinned: the key is pinned and a pull accepts it. Other keys pinned
	// for the address (one left beside it by an earlier rotation) are
	// retired when it is accepted again.
	Pinned
	// Changed: other keys are pinned for the address. Accepting the
	// offered one retires them.
	Changed
)

// Key is a key pinned for the address.
type Key struct {
	Type, Fingerprint string
	// PinnedAt is when the ledger last recorded it pinned (zero when it
	// does not say: pinned by editing the file, or before the ledger).
	PinnedAt time.Time
}

// Offer is a host key a server offered for an account, compared with the
// account's pinned keys.
type Offer struct {
	Account     config.AccountRef
	Addr        string // host:port, as pulls dial it
	Key         ssh.PublicKey
	Fingerprint string // SHA256:…
	State       State
	// Retired are the other keys pinned for Addr, which accepting the
	// offered key retires: it is then the only one pinned there.
	Retired []Key
	// accepted is the account's key list once the offered key is pinned.
	accepted []string
}

// Compare compares key, offered at host:port, with knownHosts, the pinned
// key lines of acct, as a pull would check it. A key that the list
// revokes is an error.
func Compare(acct config.AccountRef, host string, port int, knownHosts []string, key ssh.PublicKey) (*Offer, error) {
	o := &Offer{Account: acct, Addr: net.JoinHostPort(host, strconv.Itoa(port)), Key: key, Fingerprint: ssh.FingerprintSHA256(key)}
	dir, err := os.MkdirTemp("", "danzen-hostkey-*")
	if err != nil {
		return nil, fmt.Errorf("temporary known_hosts: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // public keys only; a leftover harms nothing
	verdict, err := check(dir, "all", knownHosts, o.Addr, key)
	if err != nil {
		return nil, err
	}
	var ke *knownhosts.KeyError
	switch {
	case verdict == nil:
		o.State = Pinned
	case errors.As(verdict, &ke) && len(ke.Want) == 0:
		o.State = First
	case errors.As(verdict, &ke):
		o.State = Changed
	default: // revoked
		return nil, msg.Errorf("%s の鍵 %s は登録済みの known_hosts で拒否されています: %w", "the key %[2]s of %[1]s is refused by the pinned known_hosts lines: %[3]w", o.Addr, o.Fingerprint, verdict)
	}
	if err := o.sortLines(dir, knownHosts); err != nil {
		return nil, err
	}
	return o, nil
}

// check runs knownhosts' own check of key at addr against lines, as a
// pull does: verdict is its answer (nil: accepted); err says why the
// check could not run. The lines go through a file because knownhosts
// reads files.
func check(dir, name string, lines []string, addr string, key ssh.PublicKey) (verdict, err error) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("temporary known_hosts: %w", err)
	}
	cb, err := knownhosts.New(p)
	if err != nil {
		return nil, msg.Errorf("登録済みのホスト鍵を読めません: %w", "cannot read the pinned host keys: %w", err)
	}
	// knownhosts prefers the address it is given over the remote one.
	return cb(addr, &net.TCPAddr{IP: net.IPv4zero}, key), nil
}

// sortLines finds the pinned keys that match the address (each line
// checked on its own) and the list that accepting the offer leaves: the
// other lines as they were, then the offered key in danzen's own form.
func (o *Offer) sortLines(dir string, lines []string) error {
	for i, line := range lines {
		marker, _, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil || marker != "" {
			o.accepted = append(o.accepted, line) // revocations and CAs stay
			continue
		}
		verdict, err := check(dir, strconv.Itoa(i), []string{line}, o.Addr, key)
		if err != nil {
			return err
		}
		if verdict != nil { // another address
			o.accepted = append(o.accepted, line)
			continue
		}
		if !bytes.Equal(key.Marshal(), o.Key.Marshal()) {
			o.Retired = append(o.Retired, Key{Type: key.Type(), Fingerprint: ssh.FingerprintSHA256(key)})
		}
	}
	o.accepted = append(o.accepted, knownhosts.Line([]string{knownhosts.Normalize(o.Addr)}, o.Key))
	return nil
}

// Accepted is the account's pinned-key list once the offered key is
// accepted: the retired keys are gone.
func (o *Offer) Accepted() []string { return o.accepted }

// ReadPinTimes fills each retired key's PinnedAt from the ledger in dir:
// the last entry that pinned it for this account.
func (o *Offer) ReadPinTimes(dir string) error {
	if len(o.Retired) == 0 {
		return nil
	}
	entries, err := ledger.Read(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindHostKeyPinned, ledger.KindHostKeyReplaced}})
	for _, e := range entries {
		fp, ok := o.pinnedBy(e)
		for i := range o.Retired {
			if ok && o.Retired[i].Fingerprint == fp {
				o.Retired[i].PinnedAt = e.Time
			}
		}
	}
	return err
}

// pinnedBy is the fingerprint e pinned for o's account, if it pinned one.
func (o *Offer) pinnedBy(e ledger.Entry) (string, bool) {
	var source, target, fp string
	if e.Kind == ledger.KindHostKeyPinned {
		d, err := ledger.Decode[ledger.HostKeyPinnedData](e)
		if err != nil {
			return "", false
		}
		source, target, fp = d.Source, d.Target, d.Fingerprint
	} else {
		d, err := ledger.Decode[ledger.HostKeyReplacedData](e)
		if err != nil {
			return "", false
		}
		source, target, fp = d.Source, d.Target, d.Fingerprint
	}
	if o.Account.Kind == config.AccountTarget {
		return fp, target == o.Account.Name
	}
	return fp, source == o.Account.Name
}

// Unchanged says that accepting the offer would change nothing: the key
// is pinned and is the only one pinned for the address.
func (o *Offer) Unchanged() bool { return o.State == Pinned && len(o.Retired) == 0 }

// Entries are the ledger entries that record accepting the offer, by
// actor: a first pin, or one replacement per retired key.
func (o *Offer) Entries(actor string) []ledger.Entry {
	if o.State == First {
		d := ledger.HostKeyPinnedData{Host: o.Addr, Fingerprint: o.Fingerprint, Type: o.Key.Type()}
		o.name(&d.Source, &d.Target)
		return []ledger.Entry{{Kind: ledger.KindHostKeyPinned, Actor: actor,
			Message: msg.T("ホスト鍵を照合のうえ登録", "host key pinned after the user compared it"), Payload: d}}
	}
	what := msg.T("変更されたホスト鍵を照合のうえ置き換え(旧鍵は信頼しません)", "a CHANGED host key replaced the pinned one after the user compared both (the old key is trusted no more)")
	if o.State == Pinned {
		what = msg.T("登録済みのホスト鍵を照合し、同じアドレスの他の鍵を廃止", "the pinned host key was compared again; the other keys pinned for its address were retired")
	}
	var out []ledger.Entry
	for _, k := range o.Retired {
		d := ledger.HostKeyReplacedData{Host: o.Addr, Retired: k.Fingerprint, RetiredType: k.Type, PinnedAt: k.PinnedAt,
			Fingerprint: o.Fingerprint, Type: o.Key.Type()}
		o.name(&d.Source, &d.Target)
		out = append(out, ledger.Entry{Kind: ledger.KindHostKeyReplaced, Actor: actor, Message: what, Payload: d})
	}
	return out
}

// name sets whichever of a ledger entry's source and target fields names
// o's account.
func (o *Offer) name(source, target *string) {
	if o.Account.Kind == config.AccountTarget {
		*target = o.Account.Name
		return
	}
	*source = o.Account.Name
}

// ChangedWarning is what a person is told about a CHANGED key, after
// the headline and before the pinned and offered fingerprints.
func ChangedWarning() msg.Text {
	return msg.T("登録済みの鍵と違う鍵をサーバが示しました。なりすまし、またはサーバの再構築の可能性があります。"+
		"サーバ管理者に鍵を変更したかを確かめ、新しい指紋を照合してください。登録すると古い鍵は信頼されなくなります",
		"The server offers a key other than the pinned one: possible impersonation, or a rebuilt server. "+
			"Ask the server's administrator whether they changed it and compare the new fingerprint; accepting it retires the old key, which is trusted no more.")
}

// PinnedAlgorithms are the host key algorithms that match the keys pinned
// in knownHosts, for pull.FetchHostKey to ask for first.
func PinnedAlgorithms(knownHosts []string) []string {
	var out []string
	for _, line := range knownHosts {
		_, _, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil {
			continue // validation reports it; here it only orders a request
		}
		algs := []string{key.Type()}
		if key.Type() == ssh.KeyAlgoRSA {
			algs = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
		}
		for _, a := range algs {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}
