package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// AccountRef names one SSH account on the e-chart side: a source's
// read-only pull account or a send-back target's write account.
type AccountRef struct {
	Kind string // AccountSource or AccountTarget
	Name string
}

// The kinds of SSH account; the page's editors use the same names.
const (
	AccountSource = "source"
	AccountTarget = "target"
)

// knownHostsOf is the pinned host-key list of the account ref names in c.
func (c *Config) knownHostsOf(ref AccountRef) (*[]string, error) {
	if ref.Kind == AccountTarget {
		t, err := c.RestoreTarget(ref.Name)
		if err != nil {
			return nil, err
		}
		return &t.KnownHosts, nil
	}
	s, err := c.Source(ref.Name)
	if err != nil {
		return nil, err
	}
	return &s.KnownHosts, nil
}

// missingPin is what validation says about an account without a pinned
// host key; LoadUnpinned recognises it by this text.
func missingPin() msg.Text {
	return msg.T("ホスト鍵が登録されていません。画面の「ホスト鍵を取得」(bench PC では `danzen hostkey`)で指紋を確認してから登録してください",
		"no pinned host key: fetch it with \"Fetch host key\" on the page (on a bench PC: `danzen hostkey`), compare the fingerprint, then pin it")
}

// unpinnedOnly says whether err is a validation whose every problem is
// an account without a pinned host key.
func unpinnedOnly(err error) bool {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, f := range ve.Fields {
		if f.Text != missingPin() {
			return false
		}
	}
	return true
}

// LoadUnpinned reads the configuration like Load, but accepts accounts
// that have no pinned host key yet: `danzen hostkey` loads it to pin the
// first one. Everything else is checked as strictly as for a cycle, and
// a cycle still refuses the file until every account is pinned.
func LoadUnpinned(path string) (*Config, error) {
	c, err := Load(path)
	if err == nil || !unpinnedOnly(err) {
		return c, err
	}
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		return nil, err
	}
	if c, perr := parseUnpinned(data); perr == nil {
		return c, nil
	}
	return nil, err // the file changed meanwhile: what Load said stands
}

// parseUnpinned is Parse, except that accounts may lack a pinned key.
func parseUnpinned(data []byte) (*Config, error) {
	c, err := decode(data)
	if err != nil {
		return nil, err
	}
	if err := c.validate(true); err != nil && !unpinnedOnly(err) {
		return nil, err
	}
	return c, nil
}

// SaveKnownHosts sets the pinned host keys of one account in the
// configuration file at path and changes nothing else: every other byte
// stays as the person wrote it, with no default filled in. The write is
// atomic and the replaced file is kept as path+".prev", as Save keeps it.
func SaveKnownHosts(path string, ref AccountRef, lines []string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return msg.Errorf("現在の設定 %s を読めません: %w", "cannot read the current configuration %s: %w", path, err)
	}
	data, err := patchKnownHosts(old, ref, lines)
	if err != nil {
		return msg.Errorf("設定 %s のホスト鍵を書き換えられません(何も変更していません): %w",
			"cannot change the host keys in %s (nothing was changed): %w", path, err)
	}
	if err := onlyKnownHostsDiffer(old, data, ref, lines); err != nil {
		return msg.Errorf("設定 %s のホスト鍵を書き換えられません(何も変更していません): %w",
			"cannot change the host keys in %s (nothing was changed): %w", path, err)
	}
	if err := atomicfile.Write(path+".prev", old, 0o600); err != nil {
		return msg.Errorf("変更前の設定を残せません: %w", "cannot keep the previous configuration: %w", err)
	}
	return atomicfile.Write(path, data, 0o600)
}

// onlyKnownHostsDiffer checks a patch: the new file must load, pin
// exactly lines for ref, and say everything else as the old one did.
func onlyKnownHostsDiffer(old, data []byte, ref AccountRef, lines []string) error {
	was, err := parseUnpinned(old)
	if err != nil {
		return err
	}
	now, err := parseUnpinned(data)
	if err != nil {
		return err
	}
	kh, err := was.knownHostsOf(ref)
	if err != nil {
		return err
	}
	*kh = slices.Clone(lines)
	a, aerr := json.Marshal(was)
	b, berr := json.Marshal(now)
	if err := errors.Join(aerr, berr); err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return msg.New("書き換えた結果が想定と違います", "the rewritten file does not say what was meant")
	}
	return nil
}

// patchKnownHosts replaces (or adds) the "known_hosts" member of ref's
// object in the JSON text data, in the layout around it.
func patchKnownHosts(data []byte, ref AccountRef, lines []string) ([]byte, error) {
	obj, err := accountObject(data, ref)
	if err != nil {
		return nil, err
	}
	nl := "\n"
	if bytes.Contains(data, []byte("\r\n")) {
		nl = "\r\n"
	}
	var out []byte
	if m, ok := obj.get("known_hosts"); ok {
		value, err := encodeLines(lines, m.indent(data), obj.unit(data), nl)
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, data[:m.start]...), value...), data[m.end:]...)
		return out, nil
	}
	if len(obj.members) == 0 {
		return nil, msg.New("アカウントの項目が空です", "the account's entry is empty")
	}
	last := obj.members[len(obj.members)-1]
	indent, sep := last.indent(data), ", "
	if indent != "" {
		sep = "," + nl + indent
	}
	value, err := encodeLines(lines, indent, obj.unit(data), nl)
	if err != nil {
		return nil, err
	}
	out = append(out, data[:last.end]...)
	out = append(out, sep+`"known_hosts": `...)
	out = append(out, value...)
	return append(out, data[last.end:]...), nil
}

// encodeLines is lines as a JSON array: one per line below indent when
// the member has a line of its own, else on one line.
func encodeLines(lines []string, indent, unit, nl string) ([]byte, error) {
	if lines == nil {
		lines = []string{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent(indent, unit)
	}
	if err := enc.Encode(lines); err != nil {
		return nil, err
	}
	return []byte(strings.ReplaceAll(strings.TrimSuffix(b.String(), "\n"), "\n", nl)), nil
}

// accountObject finds ref's object in the configuration's JSON text.
func accountObject(data []byte, ref AccountRef) (jsonObject, error) {
	top, err := objectAt(data, 0)
	if err != nil {
		return jsonObject{}, err
	}
	list, ok := top.get("sources")
	if ref.Kind == AccountTarget {
		var restore jsonObject
		if r, found := top.get("restore"); found {
			if restore, err = objectAt(data, r.start); err != nil {
				return jsonObject{}, err
			}
		}
		list, ok = restore.get("targets")
	}
	if !ok {
		return jsonObject{}, notInFile(ref)
	}
	elems, err := arrayAt(data, list.start)
	if err != nil {
		return jsonObject{}, err
	}
	for _, e := range elems {
		obj, err := objectAt(data, e.start)
		if err != nil {
			return jsonObject{}, err
		}
		var name string
		if n, ok := obj.get("name"); ok && json.Unmarshal(data[n.start:n.end], &name) == nil && name == ref.Name {
			return obj, nil
		}
	}
	return jsonObject{}, notInFile(ref)
}

func notInFile(ref AccountRef) error {
	if ref.Kind == AccountTarget {
		return msg.Errorf("書き戻し先 %q がファイルにありません", "send-back target %q is not in the file", ref.Name)
	}
	return msg.Errorf("取得元 %q がファイルにありません", "source %q is not in the file", ref.Name)
}

// jsonValue is where a value stands in a JSON text: [start, end), and
// where its member's key starts (the value's own start in an array).
type jsonValue struct {
	key        string
	keyStart   int
	start, end int
}

// indent is the white space before v's key when the key starts its line,
// else "" (a compact layout).
func (v jsonValue) indent(data []byte) string {
	return lineIndent(data, v.keyStart)
}

func lineIndent(data []byte, at int) string {
	i := bytes.LastIndexByte(data[:at], '\n') + 1
	if ws := string(data[i:at]); strings.Trim(ws, " \t\r") == "" && i > 0 {
		return ws
	}
	return ""
}

type jsonObject struct {
	open    int // the offset of its "{"
	members []jsonValue
}

// get is the member called key (the last one, as encoding/json reads it).
func (o jsonObject) get(key string) (jsonValue, bool) {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].key == key {
			return o.members[i], true
		}
	}
	return jsonValue{}, false
}

// unit is one step of indentation in the object's layout: its members'
// indentation beyond the line of its "{"; two spaces when that says none.
func (o jsonObject) unit(data []byte) string {
	if len(o.members) > 0 {
		outer := data[bytes.LastIndexByte(data[:o.open], '\n')+1 : o.open]
		outer = outer[:len(outer)-len(bytes.TrimLeft(outer, " \t"))]
		if inner := o.members[0].indent(data); len(inner) > len(outer) && strings.HasPrefix(inner, string(outer)) {
			return inner[len(outer):]
		}
	}
	return "  "
}

// objectAt reads the members of the JSON object that starts at data[off:]
// (after white space), with their places in data.
func objectAt(data []byte, off int) (jsonObject, error) {
	d := json.NewDecoder(bytes.NewReader(data[off:]))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return jsonObject{}, notA(msg.T("オブジェクト", "object"), err)
	}
	o := jsonObject{open: off + int(d.InputOffset()) - 1}
	for d.More() {
		prev := off + int(d.InputOffset())
		t, err := d.Token()
		k, ok := t.(string)
		if err != nil || !ok {
			return jsonObject{}, notA(msg.T("オブジェクト", "object"), err)
		}
		v, err := valueAt(d, data, off)
		if err != nil {
			return jsonObject{}, err
		}
		v.key, v.keyStart = k, prev+len(data[prev:])-len(bytes.TrimLeft(data[prev:], " \t\r\n,"))
		o.members = append(o.members, v)
	}
	return o, nil
}

// arrayAt reads the elements of the JSON array that starts at data[off:].
func arrayAt(data []byte, off int) ([]jsonValue, error) {
	d := json.NewDecoder(bytes.NewReader(data[off:]))
	if t, err := d.Token(); err != nil || t != json.Delim('[') {
		return nil, notA(msg.T("配列", "array"), err)
	}
	var out []jsonValue
	for d.More() {
		v, err := valueAt(d, data, off)
		if err != nil {
			return nil, err
		}
		v.keyStart = v.start
		out = append(out, v)
	}
	return out, nil
}

// valueAt reads d's next value and says where it stands in data; d reads
// data from off.
func valueAt(d *json.Decoder, data []byte, off int) (jsonValue, error) {
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return jsonValue{}, err
	}
	end := off + int(d.InputOffset())
	start := end - len(raw)
	if start < off || !bytes.Equal(data[start:end], raw) {
		return jsonValue{}, msg.New("JSON の位置を特定できません", "cannot place a value in the JSON text")
	}
	return jsonValue{start: start, end: end}, nil
}

// notA is why a JSON object or array could not be read.
func notA(what msg.Text, err error) error {
	if err != nil {
		return err
	}
	return msg.Sprintf("JSON の%sがありません", "expected a JSON %s", what).Err()
}
