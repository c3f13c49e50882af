package web

import (
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/status"
)

// TestKitLineOnTheMediumCard: the medium's card says whether it carries
// the recovery kit, and why not when it does not.
func TestKitLineOnTheMediumCard(t *testing.T) {
	z := when.Of("Asia/Tokyo")
	at := time.Date(2026, 12, 7, 2, 10, 0, 0, time.UTC)
	ok, bad := kitLine(&status.Kit{Time: at, OK: true}, z)
	if bad || ok.Localize(msg.JA) != "リカバリーキット: 確認済み(2026-12-07 11:10:00 JST)" ||
		ok.Localize(msg.EN) != "Recovery kit: checked (2026-12-07 11:10:00 JST)" {
		t.Errorf("kit ok: %q / %q (bad %v)", ok.Localize(msg.JA), ok.Localize(msg.EN), bad)
	}
	text := msg.T("リカバリーキットを書けませんでした(バックアップ自体は有効です): 空き容量がありません",
		"recovery kit not written (the backup itself is valid): no space left")
	line, bad := kitLine(&status.Kit{Time: at, Text: text}, z)
	if !bad || line.Localize(msg.JA) != "リカバリーキットを書けませんでした(バックアップ自体は有効です): 空き容量がありません(2026-12-07 11:10:00 JST)" ||
		line.Localize(msg.EN) != "recovery kit not written (the backup itself is valid): no space left (2026-12-07 11:10:00 JST)" {
		t.Errorf("kit not written: %q / %q (bad %v)", line.Localize(msg.JA), line.Localize(msg.EN), bad)
	}
	if none, bad := kitLine(nil, z); !none.IsZero() || bad {
		t.Errorf("no kit on record: %q, bad %v; want no line", none.String(), bad)
	}
}
