package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// synth writes a synthetic ledger of nightly cycles, as danzen writes
// them (shapes taken from a demo run: ledger/testdata/v0/demo), with the
// clock it hands Append.
type synth struct {
	l     *ledger.Ledger
	now   time.Time
	rnd   *rand.Rand
	media []string
	err   error
}

// jst is the hospital's time zone: cycles at 02:00, verification at 03:30.
var jst = time.FixedZone("JST", 9*3600)

// writeLedger writes every night from first to last (each at 02:00 JST)
// into dir; it returns the number of entries.
func writeLedger(dir string, first, last time.Time, media []string) (uint64, error) {
	s := &synth{media: media, rnd: rand.New(rand.NewPCG(uint64(first.Unix()), 1))}
	l, err := ledger.OpenWith(dir, ledger.Options{Now: func() time.Time { return s.now }, Reserve: -1})
	if err != nil {
		return 0, err
	}
	s.l = l
	for night := first; !night.After(last) && s.err == nil; night = night.AddDate(0, 0, 1) {
		s.night(night)
	}
	seq := l.Head().Seq
	if err := l.Close(); err != nil && s.err == nil {
		s.err = err
	}
	return seq, s.err
}

func (s *synth) add(kind ledger.Kind, medium string, message msg.Text, data any) {
	if s.err != nil {
		return
	}
	s.now = s.now.Add(time.Duration(20+s.rnd.IntN(400)) * time.Millisecond)
	_, s.err = s.l.Append(context.Background(), ledger.Entry{Kind: kind, Medium: medium, Actor: ledger.ActorSystem, Message: message, Payload: data})
}

// night is one day: the cycle over every medium, the daily verification,
// a person or two on the page, and now and then a drill or a scan.
func (s *synth) night(day time.Time) {
	s.now = time.Date(day.Year(), day.Month(), day.Day(), 2, 0, 0, 0, jst)
	id := s.now.UTC().Format("20060102T150405Z") + "-" + s.hex(3)
	s.add(ledger.KindCycleStart, "", msg.Plain("cycle "+id), ledger.CycleStartData{Cycle: id})
	ok := true
	for _, m := range s.media {
		ok = s.session(m, id) && ok
	}
	s.add(ledger.KindCycleEnd, "", msg.T("サイクル終了", "cycle finished"), ledger.CycleEndData{Cycle: id, OK: ok})

	s.now = time.Date(day.Year(), day.Month(), day.Day(), 3, 30, 0, 0, jst)
	seq := s.l.Head().Seq
	s.add(ledger.KindLedgerVerified, "", msg.Sprintf("証跡台帳を全件検証しました: 正常(%d 件)", "the evidence ledger was verified in full: OK (%d entries)", seq),
		ledger.LedgerVerifiedData{OK: true, Entries: int(seq), LastSeq: seq, LastHash: s.l.Head().Hash, DurationMS: 1500})

	s.now = time.Date(day.Year(), day.Month(), day.Day(), 9+s.rnd.IntN(8), s.rnd.IntN(60), 0, 0, jst)
	for range 1 + s.rnd.IntN(2) {
		s.add(ledger.KindAuthLogin, "", msg.T("ログインしました", "signed in"), nil)
		s.now = s.now.Add(time.Duration(s.rnd.IntN(30)) * time.Minute)
		s.add(ledger.KindAuthLogout, "", msg.T("ログアウトしました", "signed out"), nil)
	}
	if day.Day() == 15 {
		s.drill(s.media[int(day.Month())%len(s.media)])
	}
	if day.Weekday() == time.Sunday {
		s.add(ledger.KindScan, "", msg.T("自己診断が完了しました", "self-scan finished"),
			ledger.ScanData{Report: s.hex(8), Started: s.now, Finished: s.now.Add(40 * time.Second), Targets: 3, Addresses: 4, OpenPorts: 5, Cautions: s.rnd.IntN(3)})
	}
}

// session is one medium's part of a cycle: power on, mount, snapshot,
// forget, check, detach and the verified cut (28 entries). A few cuts are
// not verified and a few checks fail, as on real hardware.
func (s *synth) session(m, cycle string) bool {
	relay := "relay-" + m
	s.power(m, relay, "on")
	s.add(ledger.KindPowerOn, m, msg.Text{}, ledger.PowerOnData{Relay: relay, Verified: true, Sense: "on"})
	h := s.hex(16)
	uuid := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	s.disk(m, ledger.KindDiskWaiting, "", msg.Sprintf("接続を待っています(fs_uuid %s、最大 20s)", "waiting for the medium (fs_uuid %s, up to 20s)", uuid))
	s.disk(m, ledger.KindDiskAppeared, "", msg.Sprintf("媒体を検出しました: sdb1 (8:17, fs_uuid %s)", "medium appeared: sdb1 (8:17, fs_uuid %s)", uuid))
	s.disk(m, ledger.KindDiskMounted, "", msg.Sprintf("sdb1 を /run/danzen/media/%s にマウントしました(媒体ID DANZEN-%s)", "mounted sdb1 on /run/danzen/media/%s (media ID DANZEN-%s), free 1.6 TiB of 1.8 TiB", m, m))
	s.add(ledger.KindMount, m, msg.Text{}, ledger.MountData{Repository: "/run/danzen/media/" + m + "/restic"})
	snap := s.hex(32)
	s.add(ledger.KindSnapshot, m, msg.Plain("snapshot "+snap+" of emr"), ledger.SnapshotData{Cycle: cycle, Source: "emr", Snapshot: snap,
		DataAdded: 200<<20 + s.rnd.Int64N(400<<20), TotalBytes: 180 << 30, Files: 412_000 + s.rnd.IntN(3000)})
	s.add(ledger.KindForget, m, msg.Plain("1 snapshots forgotten"), ledger.ForgetData{Removed: []string{s.hex(32)}, Kept: 5})
	checkOK := s.rnd.IntN(400) != 0
	s.add(ledger.KindCheck, m, msg.Text{}, ledger.CheckData{OK: checkOK, Detail: "read-data-subset 5%"})
	for _, step := range []string{"syncfs", "unmount"} {
		s.disk(m, ledger.KindDiskDetachStep, step, msg.Plain(step+": done"))
	}
	s.disk(m, ledger.KindDiskUnmounted, "", msg.Sprintf("/run/danzen/media/%s のマウントを外しました", "unmounted /run/danzen/media/%s", m))
	for _, step := range []string{"flush-buffers", "synchronize-cache", "stop-unit", "delete-device"} {
		s.disk(m, ledger.KindDiskDetachStep, step, msg.Plain(step+": done"))
	}
	s.add(ledger.KindUnmount, m, msg.Text{}, nil)
	s.power(m, relay, "off")
	if s.rnd.IntN(500) == 0 {
		s.add(ledger.KindPowerOffUnverified, m, msg.T("切断を確認できません", "cut not verified"),
			ledger.CutData{Relay: relay, Reason: msg.T("センス入力が ON のままです", "the sense input still reads ON")})
		return false
	}
	s.disk(m, ledger.KindDiskGone, "", msg.Sprintf("媒体は /sys から消えました(fs_uuid %s)", "the medium is gone from /sys (fs_uuid %s)", uuid))
	s.add(ledger.KindDeviceGone, m, msg.Text{}, nil)
	s.add(ledger.KindPowerOffVerified, m, msg.T("切断を確認", "cut verified"), ledger.CutData{Relay: relay, SenseOff: true, DeviceGone: true, ElapsedMS: 40 + s.rnd.Int64N(30)})
	return checkOK
}

// power is the relay's check, command and sense reading.
func (s *synth) power(m, relay, want string) {
	before := map[string]string{"on": "off", "off": "on"}[want]
	s.add(ledger.KindRelaySense, m, msg.Text{}, ledger.RelayEvent{Time: s.now, Relay: relay, Kind: "check", Want: want, Got: before})
	s.add(ledger.KindRelayCommand, m, msg.Text{}, ledger.RelayEvent{Time: s.now, Relay: relay, Kind: "command", Want: want})
	s.add(ledger.KindRelaySense, m, msg.Text{}, ledger.RelayEvent{Time: s.now, Relay: relay, Kind: "sense", Want: want, Got: want, Verified: true})
}

func (s *synth) disk(m string, kind ledger.Kind, step string, text msg.Text) {
	ev := ledger.DiskEvent{Time: s.now, Medium: m, Kind: kind, Device: "sdb1", Step: step, Message: text}
	if step != "" {
		ev.Status = "done"
	}
	s.add(kind, m, text, ev)
}

// drill is a monthly restore drill of one medium (訓練記録).
func (s *synth) drill(m string) {
	relay := "relay-" + m
	s.now = s.now.Add(time.Hour)
	s.power(m, relay, "on")
	s.add(ledger.KindPowerOn, m, msg.Text{}, ledger.PowerOnData{Relay: relay, Verified: true, Sense: "on"})
	s.power(m, relay, "off")
	s.add(ledger.KindPowerOffVerified, m, msg.T("切断を確認", "cut verified"), ledger.CutData{Relay: relay, SenseOff: true, DeviceGone: true, ElapsedMS: 50})
	s.add(ledger.KindDrill, "", msg.T("復元訓練が完了しました", "restore drill finished"), ledger.RestoreData{ID: s.hex(6), Drill: true, Medium: m,
		Snapshot: s.hex(4), SnapTime: s.now.Add(-10 * time.Hour), Source: "emr", Dest: "scratch", Actor: ledger.ActorSystem, Started: s.now,
		PowerOnMS: 900, FirstByteMS: 3100, RestoreMS: 1_250_000, TotalMS: 1_260_000, Files: 412_000, Bytes: 180 << 30, FilesVerified: 412_000,
		CheckRan: true, CheckOK: true, CutVerified: true, OK: true})
}

// hex is n random bytes in hex.
func (s *synth) hex(n int) string {
	b := make([]byte, 0, 32)
	for len(b) < n {
		sum := sha256.Sum256([]byte(fmt.Sprint(s.rnd.Uint64())))
		b = append(b, sum[:]...)
	}
	return hex.EncodeToString(b[:n])
}
