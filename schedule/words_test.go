package schedule

import (
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

// TestSchedulesShownInWords: daily 02:00 reads 毎日 02:00 / daily at
// 02:00, and a cron expression is explained in words.
func TestSchedulesShownInWords(t *testing.T) {
	for expr, want := range map[string]msg.Text{
		"daily 02:00":    msg.T("毎日 02:00", "daily at 02:00"),
		"30 1 * * 1-5":   msg.T("毎週月〜金曜 01:30", "every Monday to Friday at 01:30"),
		"15 2 * * 0":     msg.T("毎週日曜 02:15", "every Sunday at 02:15"),
		"15 2 * * 7":     msg.T("毎週日曜 02:15", "every Sunday at 02:15"),
		"30 12 * * 1,3":  msg.T("毎週月・水曜 12:30", "every Monday and Wednesday at 12:30"),
		"0 10 1 4 *":     msg.T("毎年4月1日 10:00", "every year on 1 April at 10:00"),
		"0 3 1 * *":      msg.T("毎月1日 03:00", "on day 1 of each month at 03:00"),
		"0 3 1,15 * *":   msg.T("毎月1・15日 03:00", "on day 1 and 15 of each month at 03:00"),
		"0 */6 * * *":    msg.T("毎日 00:00・06:00・12:00・18:00", "daily at 00:00, 06:00, 12:00 and 18:00"),
		"*/15 * * * *":   msg.T("毎日 毎時 0・15・30・45分", "daily every hour at minute 0, 15, 30 and 45"),
		"* * * * *":      msg.T("毎日 毎分", "daily every minute"),
		"0 3 1 * 1":      msg.T("毎月1日と毎週月曜 03:00", "on day 1 of each month and every Monday at 03:00"),
		"0 9 * 1-3 *":    msg.T("1月〜3月の毎日 09:00", "every day in January to March at 09:00"),
		"0 9-17 * * 1-5": msg.T("毎週月〜金曜 9〜17時台の0分", "every Monday to Friday at minute 0 of hours 9 to 17"),
	} {
		if got := Describe(expr); got != want {
			t.Errorf("%s:\n got %q / %q\nwant %q / %q", expr, got.JA, got.EN, want.JA, want.EN)
		}
	}
	if got := Describe("whenever"); got != msg.Plain("whenever") {
		t.Errorf("an expression that does not parse: %+v", got)
	}
}
