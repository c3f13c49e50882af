package build_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// qmp is a minimal client of QEMU's machine protocol: JSON objects over a
// unix socket, replies matched to commands by id, events kept until asked
// for. The hardware-in-the-loop harness plugs and unplugs USB devices with it.
type qmp struct {
	conn net.Conn

	mu      sync.Mutex
	nextID  int
	waiting map[string]chan qmpMessage // commands sent, by id, until answered
	events  []qmpEvent
	changed chan struct{} // closed and replaced whenever an event arrives
	readErr error         // why the reader stopped
}

type qmpEvent struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

type qmpMessage struct {
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	QMP   json.RawMessage `json:"QMP"` // the greeting
	ID    string          `json:"id"`
}

// dialQMP connects to QEMU's -qmp unix socket (retrying while QEMU starts)
// and leaves the capabilities negotiation mode.
func dialQMP(ctx context.Context, path string) (*qmp, error) {
	var conn net.Conn
	for {
		var err error
		if conn, err = net.Dial("unix", path); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("QMP socket %s: %w", path, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	q := &qmp{conn: conn, changed: make(chan struct{}), waiting: map[string]chan qmpMessage{}}
	dec := json.NewDecoder(bufio.NewReader(conn))
	var greeting qmpMessage
	if err := dec.Decode(&greeting); err != nil || greeting.QMP == nil {
		_ = conn.Close() // the greeting failed: nothing to keep
		return nil, fmt.Errorf("QMP greeting: %v %s", err, greeting.QMP)
	}
	go q.read(dec)
	if _, err := q.execute(ctx, "qmp_capabilities", nil); err != nil {
		_ = conn.Close() // unusable
		return nil, err
	}
	return q, nil
}

// read sorts QEMU's messages into replies and events until the socket ends.
func (q *qmp) read(dec *json.Decoder) {
	for {
		var m qmpMessage
		err := dec.Decode(&m)
		q.mu.Lock()
		switch {
		case err != nil:
			q.readErr = err
			close(q.changed)
			for _, c := range q.waiting {
				close(c)
			}
			q.waiting = nil
			q.mu.Unlock()
			return
		case m.Event != "":
			q.events = append(q.events, qmpEvent{Event: m.Event, Data: m.Data})
			close(q.changed)
			q.changed = make(chan struct{})
		default:
			// A reply nobody waits for any more (its caller gave up) is dropped.
			if c := q.waiting[m.ID]; c != nil {
				delete(q.waiting, m.ID)
				c <- m
			}
		}
		q.mu.Unlock()
	}
}

// execute runs one command and returns its "return" value.
func (q *qmp) execute(ctx context.Context, command string, args any) (json.RawMessage, error) {
	q.mu.Lock()
	if q.waiting == nil {
		q.mu.Unlock()
		return nil, fmt.Errorf("QMP %s: the connection ended: %v", command, q.readErr)
	}
	q.nextID++
	id := fmt.Sprint(q.nextID)
	reply := make(chan qmpMessage, 1)
	q.waiting[id] = reply
	q.mu.Unlock()
	forget := func() {
		q.mu.Lock()
		delete(q.waiting, id)
		q.mu.Unlock()
	}
	req := map[string]any{"execute": command, "id": id}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		forget()
		return nil, err
	}
	if _, err := q.conn.Write(append(b, '\n')); err != nil {
		forget()
		return nil, fmt.Errorf("QMP %s: %w", command, err)
	}
	select {
	case m, ok := <-reply:
		if !ok {
			return nil, fmt.Errorf("QMP %s: the connection ended: %v", command, q.err())
		}
		if m.Error != nil {
			return nil, fmt.Errorf("QMP %s: %s: %s", command, m.Error.Class, m.Error.Desc)
		}
		return m.Return, nil
	case <-ctx.Done():
		forget()
		return nil, fmt.Errorf("QMP %s: %w", command, ctx.Err())
	}
}

func (q *qmp) err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.readErr
}

// deviceAdd hot-plugs a device: props are device_add's arguments
// ("driver", "id", "bus" and the device's own properties).
func (q *qmp) deviceAdd(ctx context.Context, props map[string]any) error {
	_, err := q.execute(ctx, "device_add", props)
	return err
}

// deviceDel unplugs the device id and waits for QEMU's DEVICE_DELETED
// event for it: only then is it gone and its id (and drive) free again.
func (q *qmp) deviceDel(ctx context.Context, id string) error {
	q.mu.Lock()
	from := len(q.events)
	q.mu.Unlock()
	if _, err := q.execute(ctx, "device_del", map[string]any{"id": id}); err != nil {
		return err
	}
	return q.waitEvent(ctx, from, func(e qmpEvent) bool {
		var d struct {
			Device string `json:"device"`
		}
		return e.Event == "DEVICE_DELETED" && json.Unmarshal(e.Data, &d) == nil && d.Device == id
	})
}

// waitEvent waits for an event from the from'th on that match accepts.
func (q *qmp) waitEvent(ctx context.Context, from int, match func(qmpEvent) bool) error {
	for {
		q.mu.Lock()
		for _, e := range q.events[from:] {
			if match(e) {
				q.mu.Unlock()
				return nil
			}
		}
		from = len(q.events)
		changed, rerr := q.changed, q.readErr
		q.mu.Unlock()
		if rerr != nil {
			return fmt.Errorf("QMP: the connection ended while waiting for an event: %w", rerr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("QMP: waiting for an event: %w", ctx.Err())
		}
	}
}

// usbDevices lists the ids of the USB disks and serial adapters plugged
// now, as QEMU's device tree holds them.
func (q *qmp) usbDevices(ctx context.Context) ([]string, error) {
	raw, err := q.execute(ctx, "qom-list", map[string]any{"path": "/machine/peripheral"})
	if err != nil {
		return nil, err
	}
	var props []struct{ Name, Type string }
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, err
	}
	var ids []string
	for _, p := range props {
		if p.Type != "child<usb-storage>" && p.Type != "child<usb-serial>" {
			continue
		}
		ids = append(ids, p.Name)
	}
	return ids, nil
}

func (q *qmp) close() error { return q.conn.Close() }

// TestHILQMP checks the harness's QEMU plumbing without booting anything:
// a USB disk from a -blockdev node is hot-plugged on the xHCI bus, unplugged
// (DEVICE_DELETED), and plugged again from the same node, which a legacy
// -drive would not allow; a usb-serial on a socket chardev comes and goes
// the same way.
func TestHILQMP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts QEMU (a second, no guest): make test runs it, -short skips it")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "qmp.sock")
	cmd := exec.Command("qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-S", "-nographic", "-nodefaults",
		"-display", "none", "-qmp", "unix:"+sock+",server=on,wait=off",
		"-device", "qemu-xhci,id=xhci",
		"-chardev", "socket,id=rs485,path="+filepath.Join(dir, "rs485.sock")+",server=on,wait=off",
		"-blockdev", "driver=file,filename="+img+",node-name=medA-file",
		"-blockdev", "driver=raw,file=medA-file,node-name=medA")
	out, err := startQEMU(t, cmd)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := dialQMP(ctx, sock)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	defer func() { _ = q.close() }() // QEMU is killed next
	disk := map[string]any{"driver": "usb-storage", "bus": "xhci.0", "drive": "medA", "id": "medA", "serial": "DZ-QMP-1", "removable": false}
	for round := range 2 {
		if err := q.deviceAdd(ctx, disk); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if ids, err := q.usbDevices(ctx); err != nil || len(ids) != 1 || ids[0] != "medA" {
			t.Fatalf("round %d: USB devices %v, %v; want [medA]", round, ids, err)
		}
		if err := q.deviceDel(ctx, "medA"); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if ids, err := q.usbDevices(ctx); err != nil || len(ids) != 0 {
			t.Fatalf("round %d: after device_del, USB devices %v, %v", round, ids, err)
		}
	}
	adapter := map[string]any{"driver": "usb-serial", "bus": "xhci.0", "chardev": "rs485", "id": "rs485dev", "serial": "DZQMP001", "always-plugged": true}
	for round := range 2 {
		if err := q.deviceAdd(ctx, adapter); err != nil {
			t.Fatalf("usb-serial round %d: %v", round, err)
		}
		if err := q.deviceDel(ctx, "rs485dev"); err != nil {
			t.Fatalf("usb-serial round %d: %v", round, err)
		}
	}
	// A device that is not there is refused, not waited for.
	if err := q.deviceDel(ctx, "nothing"); err == nil {
		t.Error("device_del of an unknown id succeeded")
	}
}

// startQEMU starts cmd, ends it when the test ends, and returns where its
// output goes.
func startQEMU(t *testing.T, cmd *exec.Cmd) (*syncOutput, error) {
	out := &syncOutput{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(errors.New("starting qemu-system-x86_64 (Debian package qemu-system-x86)"), err)
	}
	t.Cleanup(func() { kill(cmd) })
	return out, nil
}

// syncOutput collects a process's output for a failure message.
type syncOutput struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
