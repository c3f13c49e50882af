package relay

import (
	"errors"
	"fmt"
	"time"
)

// ErrNoGPIO is returned (wrapped) when the "gpio" driver finds no GPIO character device.
var ErrNoGPIO = errors.New("GPIO キャラクタデバイス(/dev/gpiochip*)がありません。GPIO のない機械では driver \"simulated\" を使ってください / " +
	"no GPIO character device (/dev/gpiochip*): on a machine without GPIO use driver \"simulated\"")

// ErrClosed is returned by a relay of a closed Set.
var ErrClosed = errors.New("リレーセットは閉じられています / relay set is closed")

// Cause says why a power state could not be verified.
type Cause string

const (
	// CauseSense: the sense input kept reading the opposite state until the timeout.
	CauseSense Cause = "sense"
	// CauseUnstable: the sense input never settled (floating or broken wire, bouncing contact).
	CauseUnstable Cause = "unstable"
	// CauseNoChange: the sense input already read the wanted state before the
	// command although the relay had been commanded the other way, so its
	// agreement proves nothing (relay stuck, or sense wire broken).
	CauseNoChange Cause = "no-change"
	// CauseCommand: driving the output line failed.
	CauseCommand Cause = "command"
	// CauseCanceled: the context ended while waiting for the sense input.
	CauseCanceled Cause = "canceled"
)

// NotVerifiedError reports that a relay's power state could not be proven.
// Any error from On or Off other than ErrClosed is a *NotVerifiedError; its
// message is for the person who must go and look at the relay.
type NotVerifiedError struct {
	Relay   string
	Want    State         // the commanded state
	Sense   State         // the last sense reading (On, Off, Unstable or Unknown)
	Cause   Cause         //
	Timeout time.Duration // the wait that elapsed, for CauseSense and CauseUnstable
	Err     error         // underlying error (gpio or context), may be nil
}

func (e *NotVerifiedError) Error() string {
	ja, en := "切断", "cut"
	if e.Want == On {
		ja, en = "通電", "power-on"
	}
	var dja, den string
	switch e.Cause {
	case CauseSense:
		dja = fmt.Sprintf("センス入力が%sのまま", e.Sense.ja())
		den = fmt.Sprintf("sense input still reads %s after %s", e.Sense.en(), e.Timeout)
		if e.Want == Off {
			dja += "。媒体に給電されている可能性があります。リレー接点の溶着と配線を点検してください"
			den += "; the medium may still be powered: check the relay for a welded contact and the wiring"
		} else {
			dja += "。リレーの故障、電源、センス配線を点検してください"
			den += "; check the relay, its supply and the sense wiring"
		}
	case CauseUnstable:
		dja = "センス入力が安定しません。センス配線の断線・浮きを点検してください"
		den = fmt.Sprintf("sense input did not settle within %s; check the sense wire for a break or a floating input", e.Timeout)
	case CauseNoChange:
		dja = fmt.Sprintf("指令の前からセンス入力が%sで、変化を確認できません。リレーの固着またはセンス配線の断線を点検してください", e.Want.ja())
		den = fmt.Sprintf("sense input already read %s before the command, so no change was seen; check for a stuck relay or a broken sense wire", e.Want.en())
	case CauseCommand:
		dja = "出力ラインを駆動できません"
		den = "could not drive the output line"
	case CauseCanceled:
		dja = "確認の途中で中断されました"
		den = "verification was interrupted"
	default:
		dja, den = string(e.Cause), string(e.Cause)
	}
	msg := fmt.Sprintf("リレー %s: %sを確認できません(%s) / relay %s: %s not verified: %s", e.Relay, ja, dja, e.Relay, en, den)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *NotVerifiedError) Unwrap() error { return e.Err }
