package netprobe

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// DefaultPublicRate caps the connects per second of a scan whose register
// holds a public address, unless scan.public_rate says otherwise.
const DefaultPublicRate = 1000

// reserved are ranges no line's device has: a register naming one holds
// a typo, and a scan would hit nothing or someone else's network.
var reserved = []struct {
	prefix netip.Prefix
	what   msg.Text
}{
	{netip.MustParsePrefix("0.0.0.0/8"), msg.T("「このネットワーク」を表す予約アドレス", "a reserved \"this network\" address")},
	{netip.MustParsePrefix("192.0.0.0/24"), msg.T("IETF のプロトコル用に予約されたアドレス", "an address reserved for IETF protocol assignments")},
	{netip.MustParsePrefix("198.18.0.0/15"), msg.T("機器の性能試験用に予約されたアドレス", "an address reserved for benchmarking")},
	{netip.MustParsePrefix("240.0.0.0/4"), msg.T("将来の利用のために予約されたアドレス", "an address reserved for future use")},
	{netip.MustParsePrefix("100::/64"), msg.T("破棄専用の予約アドレス", "a reserved discard-only address")},
	{netip.MustParsePrefix("fec0::/10"), msg.T("廃止されたサイトローカルアドレス", "a deprecated site-local address")},
}

// sharedSpace is the carriers' shared address space (RFC 6598): not the
// hospital's, but not someone else's on the internet either.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// CheckTarget refuses an address a scan must never touch, saying what it
// is: loopback, link-local, broadcast, multicast, unspecified or reserved.
func CheckTarget(a netip.Addr) error {
	a = a.Unmap()
	var what msg.Text
	switch {
	case !a.IsValid() || a.IsUnspecified():
		what = msg.T("未指定アドレス", "the unspecified address")
	case a.IsLoopback():
		what = msg.T("ループバックアドレス(ゲートウェイ自身)", "a loopback address (the gateway itself)")
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		what = msg.T("ブロードキャストアドレス", "the broadcast address")
	case a.IsLinkLocalUnicast():
		what = msg.T("リンクローカルアドレス", "a link-local address")
	case a.IsMulticast():
		what = msg.T("マルチキャストアドレス", "a multicast address")
	default:
		for _, r := range reserved {
			if r.prefix.Contains(a) {
				what = r.what
				break
			}
		}
	}
	if what.IsZero() {
		return nil
	}
	return msg.Errorf("%s は%sです。回線の機器のアドレスではないため調査しません。台帳を確認してください",
		"%s is %s, never a line's device: it is not scanned; check the register", a, what)
}

// Public reports whether a is routed on the internet, where a typo in the
// register reaches a third party. Documentation ranges count as public:
// they stand for real addresses in the lab. Refused addresses
// (CheckTarget) are not public.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !sharedSpace.Contains(a) && CheckTarget(a) == nil
}

// Confirmation is the newest confirmation in s for point id, if any.
func Confirmation(s config.Scan, id string) (config.ScanConfirmation, bool) {
	for _, c := range slices.Backward(s.Confirmed) {
		if c.Point == id {
			return c, true
		}
	}
	return config.ScanConfirmation{}, false
}

// Confirmed is the confirmation in s of address a for point id, if any.
func Confirmed(s config.Scan, id string, a netip.Addr) (config.ScanConfirmation, bool) {
	for _, c := range s.Confirmed {
		if b, err := netip.ParseAddr(c.Addr); c.Point == id && err == nil && b.Unmap() == a.Unmap() {
			return c, true
		}
	}
	return config.ScanConfirmation{}, false
}

// CheckTargets checks every address a scan of reg would touch and returns
// every refusal at once (nil when all may be scanned): addresses that are
// never a device's, and public addresses not confirmed for their point.
// A scan skips those and reports each as not scanned.
func CheckTargets(reg register.Register, s config.Scan) error {
	var errs []error
	for _, p := range reg.Points {
		if !p.Scan {
			continue
		}
		for _, a := range p.Addresses() {
			if err := refusal(s, p.ID, a.Addr); err != nil {
				errs = append(errs, msg.Errorf("接続点 %s: %w", "connection point %s: %w", p.ID, err))
			}
		}
	}
	return msg.Join(errs...)
}

// refusal says why point id's address a must not be scanned, nil if it
// may be. The reason names the address, not the point.
func refusal(s config.Scan, id string, a netip.Addr) error {
	if s.LoopbackLab && a.Unmap().IsLoopback() {
		return nil
	}
	if err := CheckTarget(a); err != nil {
		return err
	}
	if _, ok := Confirmed(s, id, a); Public(a) && !ok {
		return unconfirmed(s, id, a)
	}
	return nil
}

// CheckAddresses refuses, when the register is saved, every address no
// line's device can have (CheckTarget), naming the field, so that a typo
// is mended at entry rather than found at the next scan. Public addresses
// are confirmed later, on the self-scan page.
func CheckAddresses(reg register.Register, s config.Scan) error {
	var errs config.ValidationError
	for i, p := range reg.Points {
		for _, f := range [][2]string{{"lan_address", p.LANAddress}, {"global_ip", p.GlobalIP}} {
			field, v := f[0], f[1]
			a, err := netip.ParseAddr(v)
			if err != nil || (s.LoopbackLab && a.Unmap().IsLoopback()) {
				continue // malformed is register.Validate's to say
			}
			if err := CheckTarget(a); err != nil {
				errs.AddText(fmt.Sprintf("points[%d].%s", i, field), msg.Sprintf("接続点 %s: %s", "connection point %s: %s", p.ID, err))
			}
		}
	}
	return errs.Err()
}

func unconfirmed(s config.Scan, id string, a netip.Addr) error {
	if c, ok := Confirmation(s, id); ok {
		return msg.Errorf("グローバルIP が確認済みの %s から %s に変わりました。病院のアドレスであることを自己診断のページで確認し直すまで調査しません",
			"the global IP changed from the confirmed %s to %s; it is not scanned until a vendor admin confirms it again on the self-scan page",
			c.Addr, a)
	}
	return msg.Errorf("グローバルIP %s が病院のアドレスであることが確認されていません。自己診断のページで確認するまで調査しません",
		"the global IP %s has not been confirmed as the hospital's; it is not scanned until a vendor admin confirms it on the self-scan page",
		a)
}

// capPublicRate lowers o.Rate to the public cap when reg holds a public
// address a scan touches.
func capPublicRate(o *Options, reg register.Register, s config.Scan) {
	limit := float64(DefaultPublicRate)
	if s.PublicRate > 0 {
		limit = float64(s.PublicRate)
	}
	for _, p := range reg.Points {
		if !p.Scan {
			continue
		}
		for _, a := range p.Addresses() {
			if Public(a.Addr) {
				if o.Rate <= 0 || o.Rate > limit {
					o.Rate = limit
				}
				return
			}
		}
	}
}
