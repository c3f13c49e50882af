package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/danzen-gw/danzen/internal/msg"
)

// GenesisHash is the prev of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// MaxLineBytes bounds one stored line, so a damaged file cannot make a
// reader hold gigabytes in memory.
const MaxLineBytes = 1 << 20

// ClockState says how the clock that dates an entry was set.
type ClockState string

const (
	// ClockNTP: synchronised by NTP.
	ClockNTP ClockState = "ntp"
	// ClockRTC: not synchronised, taken from the board's battery-backed
	// hardware clock, which drifts but was set once.
	ClockRTC ClockState = "rtc"
	// ClockUnsynced: neither: the time may be far off (a board without an
	// RTC and no NTP answer). Entries still go in, in order.
	ClockUnsynced ClockState = "unsynced"
)

// ActorSystem is the actor of entries made by the appliance itself.
const ActorSystem = "system"

// Entry is one ledger record. Seq, Time, Prev and Hash are filled by Append;
// values the caller sets there are ignored.
type Entry struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Clock says how the clock that dated the entry was set; "" when the
	// writer did not say (entries before danzen recorded it, the CLI).
	Clock  ClockState `json:"clock,omitempty"`
	Kind   Kind       `json:"kind"`
	Medium string     `json:"medium,omitempty"`
	Actor  string     `json:"actor,omitempty"`
	// Message says what happened, for people, in both languages.
	Message msg.Text `json:"message,omitzero"`
	// Payload is the entry's data when appending: a value of the type
	// Kinds declares for Kind. Append encodes it into Data.
	Payload any `json:"-"`
	// Data is the stored data (read back with Decode).
	Data json.RawMessage `json:"data,omitempty"`
	Prev string          `json:"prev"`
	Hash string          `json:"hash"`
}

// Decode reads e's data into its declared type T. It fails when T is not
// the type declared for e.Kind, so a reader cannot take one kind's data
// for another's.
func Decode[T any](e Entry) (T, error) {
	var v T
	ki, ok := Lookup(e.Kind)
	if !ok {
		return v, fmt.Errorf("ledger: entry seq %d: kind %q is not declared", e.Seq, e.Kind)
	}
	if ki.Data == nil || reflect.TypeOf(ki.Data) != reflect.TypeOf(v) {
		return v, fmt.Errorf("ledger: entry seq %d: the data of %q is not a %T", e.Seq, e.Kind, v)
	}
	return decodeAs[T](e)
}

// decodeAs reads e's data into T without looking its kind up: for callers
// that have matched e.Kind to T's kind already (Summarize, on every
// entry of a month).
func decodeAs[T any](e Entry) (T, error) {
	var v T
	if len(e.Data) == 0 {
		return v, fmt.Errorf("ledger: entry seq %d has no data", e.Seq)
	}
	if err := json.Unmarshal(e.Data, &v); err != nil {
		return v, fmt.Errorf("ledger: entry seq %d data: %w", e.Seq, err)
	}
	return v, nil
}

// encodePayload checks that e's kind is declared and its data is of the
// declared type, and returns the data to store.
func encodePayload(e Entry) (json.RawMessage, error) {
	ki, ok := Lookup(e.Kind)
	if !ok {
		return nil, fmt.Errorf("kind %q is not declared in package ledger", e.Kind)
	}
	switch {
	case e.Payload != nil && len(e.Data) > 0:
		return nil, errors.New("both Payload and Data are set")
	case e.Payload != nil:
		if ki.Data == nil || reflect.TypeOf(e.Payload) != reflect.TypeOf(ki.Data) {
			return nil, fmt.Errorf("the data of %q must be a %T, not %T", e.Kind, ki.Data, e.Payload)
		}
		b, err := json.Marshal(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("encode data: %w", err)
		}
		return b, nil
	case len(e.Data) > 0:
		if ki.Data == nil {
			return nil, fmt.Errorf("%q carries no data", e.Kind)
		}
		// Raw data (tests, imports) must still be the declared type.
		v := reflect.New(reflect.TypeOf(ki.Data))
		dec := json.NewDecoder(bytes.NewReader(e.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v.Interface()); err != nil {
			return nil, fmt.Errorf("the data of %q is not a %T: %w", e.Kind, ki.Data, err)
		}
		return e.Data, nil
	}
	return nil, nil
}

// wireEntry fixes the member order of the stored line; Hash is empty (and
// so omitted) when encoding the canonical body.
//
// message is an object {"ja": …, "en": …}; entries written before danzen
// kept both languages apart hold one string "日本語 / English" there.
type wireEntry struct {
	Seq     uint64          `json:"seq"`
	Time    string          `json:"time"`
	Clock   ClockState      `json:"clock,omitempty"`
	Kind    Kind            `json:"kind"`
	Medium  string          `json:"medium,omitempty"`
	Actor   string          `json:"actor,omitempty"`
	Message json.RawMessage `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash,omitempty"`
}

const (
	hashMemberPrefix = `,"hash":"`
	hashSuffixLen    = len(hashMemberPrefix) + 64 + len(`"}`) // 75
)

// canonicalData makes Data deterministic: compact, keys sorted, numbers
// kept as written, null treated as absent.
func canonicalData(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("data is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data has content after the JSON value")
	}
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	return b, nil
}

// encodeLine returns the stored line (with "\n") and its hash.
func encodeLine(w wireEntry) ([]byte, string, error) {
	w.Hash = ""
	body, err := json.Marshal(w)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(body)+hashSuffixLen+1)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashMemberPrefix...)
	line = append(line, h...)
	line = append(line, `"}`...)
	line = append(line, '\n')
	return line, h, nil
}

// parsedLine is one stored line decoded; hashOK tells whether the stored
// hash matches the bytes.
type parsedLine struct {
	Entry
	hashOK bool
}

// parseLine decodes a stored line (without "\n") and checks its own hash.
// It does not check the chain.
func parseLine(line []byte) (parsedLine, error) {
	n := len(line)
	if n < hashSuffixLen+2 || line[0] != '{' ||
		string(line[n-hashSuffixLen:n-hashSuffixLen+len(hashMemberPrefix)]) != hashMemberPrefix ||
		string(line[n-2:]) != `"}` {
		return parsedLine{}, errors.New("does not end with the hash member")
	}
	stored := string(line[n-66 : n-2])
	if !isHex64(stored) {
		return parsedLine{}, errors.New("hash is not 64 lowercase hex digits")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var w wireEntry
	if err := dec.Decode(&w); err != nil {
		return parsedLine{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return parsedLine{}, errors.New("content after the JSON object")
	}
	if w.Hash != stored {
		return parsedLine{}, errors.New("hash member is not the last member")
	}
	if w.Seq == 0 {
		return parsedLine{}, errors.New("seq missing or 0")
	}
	if w.Kind == "" {
		return parsedLine{}, errors.New("kind missing")
	}
	if !isHex64(w.Prev) {
		return parsedLine{}, errors.New("prev is not 64 lowercase hex digits")
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil || len(w.Time) == 0 || w.Time[len(w.Time)-1] != 'Z' {
		return parsedLine{}, fmt.Errorf("time %q is not RFC 3339 UTC", w.Time)
	}
	body := make([]byte, 0, n-hashSuffixLen+1)
	body = append(body, line[:n-hashSuffixLen]...)
	body = append(body, '}')
	sum := sha256.Sum256(body)
	var data json.RawMessage
	if len(w.Data) > 0 {
		data = append(json.RawMessage(nil), w.Data...)
	}
	message, err := decodeMessage(w.Message)
	if err != nil {
		return parsedLine{}, err
	}
	return parsedLine{
		Entry: Entry{
			Seq: w.Seq, Time: t.UTC(), Clock: w.Clock, Kind: w.Kind, Medium: w.Medium, Actor: w.Actor,
			Message: message, Data: data, Prev: w.Prev, Hash: w.Hash,
		},
		hashOK: hex.EncodeToString(sum[:]) == stored,
	}, nil
}

// decodeMessage reads the message member: an object, or the one string
// older entries hold.
func decodeMessage(raw json.RawMessage) (msg.Text, error) {
	var t msg.Text
	if len(raw) == 0 {
		return t, nil
	}
	if raw[0] != '"' && raw[0] != '{' {
		return t, errors.New("message is neither a string nor an object")
	}
	if raw[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var v struct {
			JA string `json:"ja"`
			EN string `json:"en"`
		}
		if err := dec.Decode(&v); err != nil {
			return t, fmt.Errorf("message: %w", err)
		}
		return msg.Text(v), nil
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, fmt.Errorf("message: %w", err)
	}
	return t, nil
}

// encodeMessage is the message member of a new entry (nil when empty).
func encodeMessage(t msg.Text) (json.RawMessage, error) {
	if t.IsZero() {
		return nil, nil
	}
	return json.Marshal(t)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validateNew checks the caller-supplied fields of an entry to append.
func validateNew(e Entry) error {
	if e.Kind == "" {
		return errors.New("kind is empty")
	}
	for name, s := range map[string]string{"kind": string(e.Kind), "medium": e.Medium, "actor": e.Actor, "message ja": e.Message.JA, "message en": e.Message.EN} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%s is not valid UTF-8", name)
		}
	}
	return nil
}
