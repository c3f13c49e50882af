package tape

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/danzen-gw/danzen/internal/msg"
)

// RecoveryCommands are the shell commands that read medium spec's restic
// repository from tape without danzen, on any Linux PC with the drive
// (packages mt-st, tar and restic), into dir/repo. With the tape's record
// (from the catalogue) they read exactly the archives from its last
// baseline on; without it they read every archive until the end of data,
// which gives the same repository plus snapshots forgotten since
// (harmless: restore "latest" or a snapshot ID as usual).
func RecoveryCommands(spec Spec, t *TapeRecord, dir string) []string {
	dev := spec.device()
	blocks := spec.recordSize() / 512
	read := fmt.Sprintf("mt -f %s asf $n && tar -x -b %d -f %s || break", dev, blocks, dev)
	cmds := []string{
		comment(msg.T("テープを装置に入れ、読み込みを待つ", "insert the tape and wait until the drive has loaded it")),
		fmt.Sprintf("mt -f %s status", dev),
		fmt.Sprintf("mkdir -p %s && cd %s", dir, dir),
		comment(msg.T("ファイル 0 はラベル(テープ ID)", "file 0 is the label (tape ID)")),
		fmt.Sprintf("mt -f %s asf 0 && tar -x -O -b %d -f %s %s", dev, blocks, dev, LabelMember),
	}
	if t != nil && t.LastBaseline() >= 0 {
		var nums []string
		for _, f := range t.Files[t.LastBaseline():] {
			nums = append(nums, strconv.Itoa(f.Number))
		}
		list := strings.Join(nums, " ")
		cmds = append(cmds,
			comment(msg.Sprintf("テープ %s: ファイル %s を順に展開(最初が全体)", "tape %s: extract files %s in order (the first is the baseline)", t.ID, list)),
			fmt.Sprintf("for n in %s; do %s; done", list, read))
	} else {
		cmds = append(cmds,
			comment(msg.T("すべてのアーカイブを順に展開(最後のエラーはデータの終わり)", "extract every archive in order (the last error is the end of data)")),
			fmt.Sprintf("n=1; while %s; do n=$((n+1)); done", fmt.Sprintf("mt -f %s asf $n && tar -x -b %d -f %s", dev, blocks, dev)))
	}
	return append(cmds,
		fmt.Sprintf("mt -f %s offline", dev),
		comment(msg.T("リポジトリのパスワードは紙の控えを使う", "the repository password is the one written down on paper")),
		fmt.Sprintf("restic -r %s/repo snapshots", dir),
		fmt.Sprintf("restic -r %s/repo restore latest --target %s/restored", dir, dir),
	)
}

// comment is a shell comment line in both languages: the sheet is read by
// whoever is at the PC.
func comment(t msg.Text) string { return "# " + t.String() }
