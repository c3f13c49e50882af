package relay

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// ErrNoGPIO is returned (wrapped) when the "gpio" driver finds no GPIO character device.
var ErrNoGPIO = msg.New("GPIO キャラクタデバイス(/dev/gpiochip*)がありません。GPIO のない機械では driver \"simulated\" を使ってください",
	"no GPIO character device (/dev/gpiochip*): on a machine without GPIO use driver \"simulated\"")

// ErrClosed is returned by a relay of a closed Set.
var ErrClosed = msg.New("リレーセットは閉じられています", "relay set is closed")

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
	// CauseLink: a relay module did not answer or answered wrongly while
	// its sense input was read (Err is the module's error, *rtu.Error).
	CauseLink Cause = "link"
	// CausePowerLoss: a relay module lost power or restarted, so its relays
	// dropped: the medium is probably cut, but that is not proven.
	CausePowerLoss Cause = "module-power"
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
	Err     error         // underlying error (gpio, relay module or context), may be nil
}

func (e *NotVerifiedError) Error() string { return e.Localize(msg.Both) }

// Localize words the failure in l for the person who must check the relay.
func (e *NotVerifiedError) Localize(l msg.Lang) string {
	what := msg.T("切断", "cut")
	if e.Want == On {
		what = msg.T("通電", "power-on")
	}
	var detail msg.Text
	switch e.Cause {
	case CauseSense:
		detail = msg.Sprintf("%[2]s 経ってもセンス入力が%[1]sのまま", "sense input still reads %s after %s", e.Sense.Text(), e.Timeout)
		if e.Want == Off {
			detail = detail.Append("", msg.T("。媒体に給電されている可能性があります。リレー接点の溶着と配線を点検してください",
				"; the medium may still be powered: check the relay for a welded contact and the wiring"))
		} else {
			detail = detail.Append("", msg.T("。リレーの故障、電源、センス配線を点検してください", "; check the relay, its supply and the sense wiring"))
		}
	case CauseUnstable:
		detail = msg.Sprintf("センス入力が %[1]s 以内に安定しません。センス配線の断線・浮きを点検してください",
			"sense input did not settle within %s; check the sense wire for a break or a floating input", e.Timeout)
	case CauseNoChange:
		detail = msg.Sprintf("指令の前からセンス入力が%sで、変化を確認できません。リレーの固着またはセンス配線の断線を点検してください",
			"sense input already read %s before the command, so no change was seen; check for a stuck relay or a broken sense wire", e.Want.Text())
	case CauseCommand:
		detail = msg.T("出力ラインを駆動できません", "could not drive the output line")
	case CauseCanceled:
		detail = msg.T("確認の途中で中断されました", "verification was interrupted")
	case CauseLink:
		detail = msg.T("リレーモジュールが応答しないか、誤った応答をしました。状態は証明されていません",
			"the relay module did not answer or answered wrongly: the state is not proven")
	case CausePowerLoss:
		detail = msg.T("リレーモジュールの電源が落ちたか再起動しました。リレーはすべて OFF に戻ったため媒体は切断されているはずですが、証明されていません",
			"the relay module lost power or restarted: its relays all dropped, so the medium is probably cut, but that is not proven")
	default:
		detail = msg.Plain(string(e.Cause))
	}
	t := msg.Sprintf("リレー %s: %sを確認できません(%s)", "relay %s: %s not verified: %s", e.Relay, what, detail)
	if e.Err != nil {
		return msg.WrapText(e.Err, t).(msg.Localizer).Localize(l)
	}
	return t.Localize(l)
}

func (e *NotVerifiedError) Unwrap() error { return e.Err }
