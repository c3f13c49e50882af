package documents

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/media/tape"
)

// tapeKind describes an LTO drive on a relay-switched supply; the restic
// repository is spooled on the gateway and appended to tape each cycle.
var tapeKind = mediumKind{
	label: func(l lang, m *config.Medium) string { return l.t("LTOテープ", "LTO tape") },
	offline: func(b *builder, m *config.Medium) []Block {
		l := b.l
		if m.Tape == nil {
			return []Block{vendorNote(l, m)}
		}
		return []Block{
			ptext(l.f("媒体 %s はLTOテープです。ゲートウェイ上のスプール %s の restic リポジトリを、毎回その差分のtarアーカイブとしてテープに追記し、読み戻してSHA-256を照合します。書き込み後にカートリッジをアンロード・排出(MTOFFL)してから、リレーでテープ装置の電源を切り、センス入力がOFFを示し、装置が消えたことを確認して初めて「切断」を記録します。",
				"Medium %s is LTO tape. The restic repository spooled on the gateway at %s is appended to tape each cycle as a tar archive of what is new, read back and checked by SHA-256. After writing, the cartridge is unloaded and ejected (MTOFFL); then the relay cuts the drive's power, and only when the sense input reads OFF and the drive has vanished is the cut recorded.",
				m.Name, m.Tape.SpoolDir)),
			kv([2]string{l.t("項目", "item"), l.t("設定値", "value")}, append([]kvPair{pair(l.t("テープ装置", "tape device"), code(tapeDevice(m.Tape)))}, relayPairs(b, relayOf(b.cfg, m))...)...),
		}
	},
	procedure: func(b *builder, m *config.Medium) []Block {
		l := b.l
		return []Block{
			steps(
				titem(l.f("リレー %s でテープ装置に給電し、カートリッジの読み込みを待つ。", "Relay %s powers the drive; the cartridge is loaded.", m.Relay)),
				titem(l.t("restic でスプールに書き込み、差分をテープに追記し、読み戻して照合する。", "restic writes to the spool; what is new is appended to tape, read back and checked.")),
				titem(l.t("カートリッジを排出し、リレーを切り、センスOFFと装置の消失を確認する。", "The cartridge is ejected, the relay cut, and sense OFF and the drive's disappearance verified.")),
			),
			note(text(l.t("テープが一杯になると、そのテープには以後書き込まず、サイクルは新しいテープを求めて失敗します。排出されたカートリッジは保管場所に移してください。", "A full tape is never written again; the cycle fails asking for a new tape. Move ejected cartridges to their storage place."))),
		}
	},
	parts: func(b *builder, m *config.Medium) [][]Cell {
		l := b.l
		return [][]Cell{
			{cell(text(l.t("LTOテープ装置(SAS) — ", "LTO tape drive (SAS) — ")), code(m.Name)), tcell("1"), tcell(l.t("SAS HBA(mpt3sas または smartpqi 対応)が必要", "needs a SAS HBA (mpt3sas or smartpqi)"))},
			{tcell(l.t("LTOカートリッジ", "LTO cartridges")), tcell(fmt.Sprint(max(2, b.cfg.Retention.KeepLast))), tcell(l.t("輪番・保管用", "for rotation and storage"))},
			{tcell(l.t("テープ用カーネル(st ドライバ入り)", "kernel with the st driver")), tcell("1"), tcell(strings.Join(tape.KernelConfig, " "))},
		}
	},
	prepare: tapePrepare,
	restore: func(b *builder, m *config.Medium) []Block {
		l := b.l
		if m.Tape == nil {
			return []Block{vendorNote(l, m)}
		}
		dir := "/srv/restore-tape/" + m.Name
		cmds := strings.Join(tape.RecoveryCommands(*m.Tape, nil, dir), "\n") + "\n"
		blocks := []Block{
			ptext(l.t("テープ装置(mt-st、GNU tar、restic を入れたPC)で、テープからリポジトリを読み出してから復元する。最新のテープから順に使う。", "On a PC with the drive (mt-st, GNU tar and restic), read the repository from tape first, then restore. Start with the newest tape.")),
			note(text(tapeKitText(l))),
		}
		blocks = append(blocks, b.restoreChoice(m)...)
		return append(blocks,
			codeBlock(cmds+b.resticRestore(m.Name, dir+"/repo", "/root/"+filepath.Base(m.PasswordFile), "")),
			para(text(l.t("パスワードの保管場所: ", "Password kept at: ")), b.field("password_storage")),
		)
	},
}

func tapeDevice(s *tape.Spec) string {
	if s.Device == "" {
		return tape.DefaultDevice
	}
	return s.Device
}

func tapePrepare(b *builder, m *config.Medium) []Block {
	l := b.l
	st := [][]Span{
		titem(l.f("テープの媒体が設定になければ画面で追加し(%s)、リレー %s の配線テストを行う(%s)。テープ装置が現れ、切断後に消えることを確かめる。",
			"Add the tape medium on the page if it is not there yet (%s), and run the wiring test of relay %s (%s): the drive must appear, and vanish after the cut.",
			l.q(pageAddMedium), m.Relay, l.qf(pageRelayStep, m.Relay))),
		titem(l.t("新しいカートリッジを入れる。", "Insert a new cartridge.")),
	}
	st = append(st, b.passwordSteps(m, l.t("リポジトリを作ってテープにラベルを書き、カートリッジを排出する", "is the repository created, the tape labelled and the cartridge ejected"))...)
	return []Block{steps(st...)}
}

// tapeKitText says where restic comes from for a tape medium. The
// recovery kit (recoverykit) is written to disk and S3 media; a tape
// holds only the repository's archives, so the PC needs restic first.
func tapeKitText(l lang) string {
	return l.f("テープには復旧キット(%s/)を書き込みません。ディスクまたはS3の媒体の %s/ にある restic %s を使うか、事前に restic %s(公式リリース、SHA-256 を照合)を復旧用PCに入れておいてください。",
		"The recovery kit (%[1]s/) is not written to tape. Use restic %[3]s from %[2]s/ on a disk or S3 medium, or install restic %[4]s (the official release, SHA-256 checked) on the recovery PC beforehand.",
		kitDir, kitDir, kitResticVersion, kitResticVersion)
}
