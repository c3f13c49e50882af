package rtu

import (
	"errors"
	"fmt"

	"github.com/simonvetter/modbus"

	"github.com/danzen-gw/danzen/internal/msg"
)

// Kind says what went wrong between the gateway and a module, so the
// message can tell the vendor's engineer what to check.
type Kind string

const (
	// KindNoAnswer: the module did not answer within its timeout.
	KindNoAnswer Kind = "no-answer"
	// KindCRC: the answer was garbled (bad CRC or cut short).
	KindCRC Kind = "crc"
	// KindNoEcho: the answer had a valid CRC but did not match the request
	// (a write not echoed, a wrong length or unit id).
	KindNoEcho Kind = "no-echo"
	// KindRefused: the module answered with a Modbus exception.
	KindRefused Kind = "refused"
	// KindAdapter: the serial adapter is not there or failed (unplugged).
	KindAdapter Kind = "adapter"
	// KindPowerLoss: a coil this Bus turned on reads off: the module lost
	// power or restarted.
	KindPowerLoss Kind = "power-loss"
)

// ErrPowerLoss matches (errors.Is) every *Error of KindPowerLoss.
var ErrPowerLoss = errors.New("rtu: module lost power or restarted")

// Error is a failed request to a module. It names the module, where it
// hangs (adapter serial number and device) and its address.
type Error struct {
	Module  string
	Adapter string   // USB serial number of the adapter, "" for a fixed device
	Device  string   // the serial device used, or configured; "" when not found
	Address int      // Modbus slave address
	Op      msg.Text // what was asked: "writing coil 2"
	Kind    Kind
	Coils   []int // KindPowerLoss: the coils that dropped
	Err     error // the serial or Modbus error, may be nil
}

func (e *Error) Error() string { return e.Localize(msg.Both) }

// Unwrap gives the underlying serial or Modbus error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPowerLoss) find a power loss.
func (e *Error) Is(target error) bool { return target == ErrPowerLoss && e.Kind == KindPowerLoss }

// Temporary reports whether repeating the request may succeed: noise,
// a lost or late frame (a late answer read as the next one's does not
// echo it), an adapter being replugged. A power loss or a refusal is not
// cured by asking again; a fault that persists fails every repeat.
func (e *Error) Temporary() bool {
	return e.Kind != KindRefused && e.Kind != KindPowerLoss
}

// Localize words the failure in l for the person who must go and check.
func (e *Error) Localize(l msg.Lang) string {
	where := msg.Sprintf("デバイス %s", "device %s", e.Device)
	switch {
	case e.Adapter != "" && e.Device != "":
		where = msg.Sprintf("アダプタ %s、%s", "adapter %s, %s", e.Adapter, e.Device)
	case e.Adapter != "":
		where = msg.Sprintf("アダプタ %s", "adapter %s", e.Adapter)
	}
	t := msg.Sprintf("リレーモジュール %s(%s、アドレス %d): %s: %s", "relay module %s (%s, address %d): %s: %s",
		e.Module, where, e.Address, e.Op, e.detail())
	return t.Localize(l)
}

func (e *Error) detail() msg.Text {
	switch e.Kind {
	case KindNoAnswer:
		return msg.T("応答がありません。A/B 配線、モジュールの 24 V 電源、アドレスと通信速度の設定を点検してください",
			"no answer: check the A/B wiring, the module's 24 V supply, and its address and baud rate")
	case KindCRC:
		return msg.T("応答の CRC が不正です。回線のノイズ、終端抵抗、通信速度とパリティの設定を点検してください",
			"the answer failed its CRC check: check for line noise, the termination resistor, and the baud rate and parity")
	case KindNoEcho:
		return msg.T("応答が指令と一致しません。同じアドレスの別の機器、または機種の違うモジュールを点検してください",
			"the answer does not echo the command: check for another device on the same address, or a module of another type")
	case KindRefused:
		return msg.Sprintf("モジュールが要求を拒否しました(%v)。コイル・入力の番号とモジュールの機種を確認してください",
			"the module refused the request (%v): check the coil and input numbers and the module type", e.Err)
	case KindAdapter:
		if e.Adapter != "" && e.Device == "" {
			return msg.T("USB–RS-485 アダプタが見つかりません。差し込まれているか、USB ケーブルを点検してください",
				"the USB–RS-485 adapter is not plugged in: check it and its USB cable")
		}
		return msg.Sprintf("シリアルポートの入出力エラーです(アダプタが抜かれた可能性があります。USB ケーブルを点検してください): %v",
			"serial I/O error (the adapter may have been unplugged: check it and its USB cable): %v", e.Err)
	case KindPowerLoss:
		return msg.Sprintf("モジュールの電源が落ちたか再起動しました: コイル %v が OFF に戻っています(媒体は切断されているはずですが、証明されていません)。モジュールの 24 V 電源を点検してください",
			"the module lost power or restarted: coil %v dropped (the medium is cut, but the cut is not proven); check the module's 24 V supply", coilList(e.Coils))
	}
	return msg.Plain(fmt.Sprint(e.Err))
}

func coilList(cs []int) string {
	s := ""
	for i, c := range cs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(c)
	}
	return s
}

// kindOf sorts a Modbus client error.
func kindOf(err error) Kind {
	var me modbus.Error
	if !errors.As(err, &me) {
		return KindAdapter // an operating-system error from the serial port
	}
	switch me {
	case modbus.ErrRequestTimedOut:
		return KindNoAnswer
	case modbus.ErrBadCRC, modbus.ErrShortFrame:
		return KindCRC
	case modbus.ErrProtocolError, modbus.ErrBadUnitId:
		return KindNoEcho
	}
	return KindRefused
}
