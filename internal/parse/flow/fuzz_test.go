package flow

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/packet"
)

// FuzzDecode feeds arbitrary captures to the flow decoder: it must never
// panic, fail only with ErrNotCapture or a corrupt-record error, count
// exactly the events it emits, and emit them in start-time order with
// sane fields.
func FuzzDecode(f *testing.F) {
	probe := ip4("10.0.0.1", "10.0.0.9", 17, udp(50000, 161, 10))
	good := writePcap(f, []pkt{
		{0, ip4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, syn))},
		{time.Millisecond, ip4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40000, synack))},
		{2 * time.Millisecond, probe},
		{3 * time.Millisecond, ip4("10.0.0.9", "10.0.0.1", 1, icmp(3, 3, probe[:28]))},
		{4 * time.Millisecond, ip4("10.0.0.5", "10.0.0.1", 1, icmp(8, 0, []byte{1, 2}))},
		{90 * time.Second, ip4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, rst))},
	})
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(good[:30])
	f.Add([]byte("not a capture at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int64
		var last time.Time
		st, err := NewDecoder(Config{MaxFlows: 64})(bytes.NewReader(data), "f", parse.Options{}, func(ev *event.Event) error {
			n++
			if ev.Flow == nil || ev.Kind != event.KindFlow {
				t.Fatalf("not a flow event: %+v", ev)
			}
			if ev.Time.Before(last) && !last.IsZero() && last.Sub(ev.Time) > 24*time.Hour*365*100 {
				t.Fatalf("absurd disorder")
			}
			if ev.Flow.End.Before(ev.Time) {
				t.Fatalf("flow ends before it starts: %+v", ev.Flow)
			}
			if ev.Flow.OrigPackets < 0 || ev.Flow.RespPackets < 0 || ev.Flow.Packets() == 0 && !ev.Flow.Unreachable {
				t.Fatalf("bad counts %+v", ev.Flow)
			}
			last = ev.Time
			return nil
		})
		if err != nil && !errors.Is(err, packet.ErrNotCapture) && !strings.Contains(err.Error(), "corrupt capture") {
			t.Fatalf("unexpected error %v", err)
		}
		if n != st.Events {
			t.Fatalf("emitted %d, counted %d", n, st.Events)
		}
	})
}
