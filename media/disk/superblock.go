package disk

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"

	"github.com/danzen-gw/danzen/internal/msg"
)

// ErrNotExt4 means the volume carries no ext2/3/4 superblock.
var ErrNotExt4 = msg.New("ext4 ファイルシステムではありません", "not an ext4 filesystem")

// Superblock is what danzen reads from an ext4 superblock (no blkid on the
// appliance; reading 1 KiB ourselves also never writes the device).
type Superblock struct {
	UUID      string // lower-case 8-4-4-4-12
	Label     string
	BlockSize uint32
	Blocks    uint64
	// HasErrors is set when the kernel recorded filesystem errors (s_state).
	HasErrors bool
	Journal   bool // has_journal: ext3/ext4
	Extents   bool // extents: ext4
}

const (
	sbOffset        = 1024
	sbSize          = 1024
	extMagic        = 0xEF53
	compatJournal   = 0x4
	incompatExtents = 0x40
	incompat64bit   = 0x80
	roCompatCsum    = 0x400
	stateErrors     = 0x2
)

// ReadSuperblock reads the primary ext4 superblock of a volume. It returns
// an error wrapping ErrNotExt4 when there is none, and refuses a superblock
// whose metadata checksum does not match (a torn or foreign block must not
// be taken for an identity).
func ReadSuperblock(r io.ReaderAt) (Superblock, error) {
	b := make([]byte, sbSize)
	if _, err := r.ReadAt(b, sbOffset); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Superblock{}, msg.Errorf("%w(小さすぎます)", "%w (too small)", ErrNotExt4)
		}
		return Superblock{}, msg.Errorf("スーパーブロックを読めません: %w", "cannot read the superblock: %w", err)
	}
	le := binary.LittleEndian
	if le.Uint16(b[0x38:]) != extMagic {
		return Superblock{}, ErrNotExt4
	}
	compat, incompat, roCompat := le.Uint32(b[0x5C:]), le.Uint32(b[0x60:]), le.Uint32(b[0x64:])
	if roCompat&roCompatCsum != 0 {
		// crc32c with seed ~0 and no final inversion, as the kernel computes it.
		want := le.Uint32(b[0x3FC:])
		if got := ^crc32.Checksum(b[:0x3FC], crc32.MakeTable(crc32.Castagnoli)); got != want {
			return Superblock{}, msg.Errorf("スーパーブロックのチェックサムが一致しません(%08x、記録値 %08x)", "superblock checksum mismatch (%08x, stored %08x)", got, want)
		}
	}
	logBlock := le.Uint32(b[0x18:])
	if logBlock > 6 {
		return Superblock{}, msg.Errorf("%w(ブロックサイズ 2^%d KiB)", "%w (block size 2^%d KiB)", ErrNotExt4, logBlock)
	}
	sb := Superblock{
		UUID:      formatUUID(b[0x68:0x78]),
		Label:     string(bytes.TrimRight(b[0x78:0x88], "\x00")),
		BlockSize: 1024 << logBlock,
		Blocks:    uint64(le.Uint32(b[0x04:])),
		HasErrors: le.Uint16(b[0x3A:])&stateErrors != 0,
		Journal:   compat&compatJournal != 0,
		Extents:   incompat&incompatExtents != 0,
	}
	if incompat&incompat64bit != 0 {
		sb.Blocks |= uint64(le.Uint32(b[0x150:])) << 32
	}
	return sb, nil
}

func formatUUID(u []byte) string {
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
