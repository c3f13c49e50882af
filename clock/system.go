package clock

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
)

// System is the clock the kernel keeps, which danzen sets.
type System interface {
	Now() time.Time
	// Set steps the clock to t.
	Set(t time.Time) error
	// Slew moves the clock by d gradually (half a millisecond a second),
	// so that nothing sees time go back.
	Slew(d time.Duration) error
}

// RTC is the board's battery-backed hardware clock, kept in UTC.
type RTC interface {
	Read() (time.Time, error)
	Write(t time.Time) error
}

// Kernel is the real system clock (root: CAP_SYS_TIME).
type Kernel struct{}

func (Kernel) Now() time.Time { return time.Now() }

func (Kernel) Set(t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return msg.Errorf("システム時計を設定できません: %w", "cannot set the system clock: %w", err)
	}
	return nil
}

func (Kernel) Slew(d time.Duration) error {
	// ADJ_OFFSET_SINGLESHOT is adjtime(3): the kernel slews by d.
	tx := unix.Timex{Modes: unix.ADJ_OFFSET_SINGLESHOT, Offset: d.Microseconds()}
	if _, err := unix.Adjtimex(&tx); err != nil {
		return msg.Errorf("システム時計を調整できません: %w", "cannot adjust the system clock: %w", err)
	}
	return nil
}

// DefaultRTC is the first hardware clock Linux registers.
const DefaultRTC = "/dev/rtc0"

// DeviceRTC is a Linux RTC device.
type DeviceRTC struct{ Path string }

// OpenRTC returns the RTC at path, or nil when the board has none (a
// Raspberry Pi 4 without an add-on).
func OpenRTC(path string) (RTC, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return DeviceRTC{Path: path}, nil
}

func (r DeviceRTC) Read() (time.Time, error) {
	var t *unix.RTCTime
	err := r.with(func(fd int) (err error) {
		t, err = unix.IoctlGetRTCTime(fd)
		return err
	})
	if err != nil {
		return time.Time{}, msg.Errorf("ハードウェア時計 %s を読めません: %w", "cannot read the hardware clock %s: %w", r.Path, err)
	}
	return time.Date(int(t.Year)+1900, time.Month(t.Mon+1), int(t.Mday), int(t.Hour), int(t.Min), int(t.Sec), 0, time.UTC), nil
}

func (r DeviceRTC) Write(t time.Time) error {
	t = t.UTC()
	v := unix.RTCTime{Sec: int32(t.Second()), Min: int32(t.Minute()), Hour: int32(t.Hour()), Mday: int32(t.Day()),
		Mon: int32(t.Month() - 1), Year: int32(t.Year() - 1900)}
	if err := r.with(func(fd int) error { return unix.IoctlSetRTCTime(fd, &v) }); err != nil {
		return msg.Errorf("ハードウェア時計 %s を設定できません: %w", "cannot set the hardware clock %s: %w", r.Path, err)
	}
	return nil
}

// with runs fn on the open device (the ioctls need no write access).
func (r DeviceRTC) with(fn func(fd int) error) error {
	f, err := os.Open(r.Path)
	if err != nil {
		return err
	}
	ferr := fn(int(f.Fd()))
	return errors.Join(ferr, f.Close())
}
