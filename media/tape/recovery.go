package tape

import "fmt"

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
		"# テープを装置に入れ、読み込みを待つ / insert the tape and wait until the drive has loaded it",
		fmt.Sprintf("mt -f %s status", dev),
		fmt.Sprintf("mkdir -p %s && cd %s", dir, dir),
		"# ファイル 0 はラベル(テープ ID)/ file 0 is the label (tape ID)",
		fmt.Sprintf("mt -f %s asf 0 && tar -x -O -b %d -f %s %s", dev, blocks, dev, LabelMember),
	}
	if t != nil && t.LastBaseline() >= 0 {
		first, last := t.Files[t.LastBaseline()].Number, t.Files[len(t.Files)-1].Number
		cmds = append(cmds,
			fmt.Sprintf("# テープ %s: ファイル %d(全体)から %d までを順に展開 / tape %s: extract files %d (baseline) to %d in order", t.ID, first, last, t.ID, first, last),
			fmt.Sprintf("for n in $(seq %d %d); do %s; done", first, last, read))
	} else {
		cmds = append(cmds,
			"# すべてのアーカイブを順に展開(最後のエラーはデータの終わり)/ extract every archive in order (the last error is the end of data)",
			fmt.Sprintf("n=1; while %s; do n=$((n+1)); done", fmt.Sprintf("mt -f %s asf $n && tar -x -b %d -f %s", dev, blocks, dev)))
	}
	return append(cmds,
		fmt.Sprintf("mt -f %s offline", dev),
		"# リポジトリのパスワードは紙の控えを使う / the repository password is the one written down on paper",
		fmt.Sprintf("restic -r %s/repo snapshots", dir),
		fmt.Sprintf("restic -r %s/repo restore latest --target %s/restored", dir, dir),
	)
}
