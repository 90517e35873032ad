package dnsgen

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/miekg/dns"
)

// WritePcap writes the traffic as a pcap capture (Ethernet, IPv4).
func WritePcap(w io.Writer, cfg Config) (Truth, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return Truth{}, err
	}
	pq := &packetHeap{}
	packets := 0
	write := func(p packet) error {
		packets++
		return pw.WritePacket(gopacket.CaptureInfo{Timestamp: p.at, CaptureLength: len(p.data), Length: len(p.data)}, p.data)
	}
	seq := 0
	push := func(at time.Time, data []byte) {
		seq++
		heap.Push(pq, packet{at: at, seq: seq, data: data})
	}
	truth, err := generate(cfg, func(ex *exchange) error {
		for pq.Len() > 0 && !(*pq)[0].at.After(ex.at) {
			if err := write(heap.Pop(pq).(packet)); err != nil {
				return err
			}
		}
		q, r, err := messages(ex)
		if err != nil {
			return err
		}
		srv := ex.serverAddr()
		if err := write(packet{at: ex.at, data: udpFrame(ex.client, srv, ex.port, 53, q)}); err != nil {
			return err
		}
		if ex.noAnswer {
			return nil
		}
		rat := ex.at.Add(ex.rtt)
		push(rat, udpFrame(srv, ex.client, 53, ex.port, r))
		if ex.connect.IsValid() {
			push(rat.Add(3*time.Millisecond), synFrame(ex.client, ex.connect, ex.port^0x5a5a, 443))
		}
		return nil
	})
	if err != nil {
		return truth, err
	}
	for pq.Len() > 0 {
		if err := write(heap.Pop(pq).(packet)); err != nil {
			return truth, err
		}
	}
	truth.Packets = packets
	return truth, bw.Flush()
}

// serverAddr is the server the exchange asked.
func (ex *exchange) serverAddr() netip.Addr {
	if ex.server.IsValid() {
		return ex.server
	}
	return resolver
}

type packet struct {
	at   time.Time
	seq  int
	data []byte
}

type packetHeap []packet

func (h packetHeap) Len() int { return len(h) }
func (h packetHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h packetHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *packetHeap) Push(x any)   { *h = append(*h, x.(packet)) }
func (h *packetHeap) Pop() any     { old := *h; p := old[len(old)-1]; *h = old[:len(old)-1]; return p }

// messages packs an exchange's query and response.
func messages(ex *exchange) (q, r []byte, err error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(ex.name), ex.qtype)
	m.Id = ex.id
	m.SetEdns0(1232, false)
	if q, err = m.Pack(); err != nil {
		return nil, nil, fmt.Errorf("cannot pack query %s: %w", ex.name, err)
	}
	if ex.noAnswer {
		return q, nil, nil
	}
	resp := new(dns.Msg)
	resp.SetReply(m)
	resp.Rcode = ex.rcode
	resp.RecursionAvailable = true
	resp.Answer = ex.answers
	resp.Compress = true
	if r, err = resp.Pack(); err != nil {
		return nil, nil, fmt.Errorf("cannot pack response %s: %w", ex.name, err)
	}
	return q, r, nil
}

var (
	macClient = []byte{0x02, 0, 0, 0, 0, 0x10}
	macRouter = []byte{0x02, 0, 0, 0, 0, 0x01}
)

// ipv4 appends Ethernet and IPv4 headers for a payload of n bytes.
func ipv4(src, dst netip.Addr, proto byte, n int) []byte {
	b := make([]byte, 34, 34+n)
	copy(b[0:6], macRouter)
	copy(b[6:12], macClient)
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+n))
	ip[6] = 0x40 // don't fragment
	ip[8] = 64
	ip[9] = proto
	s, d := src.As4(), dst.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	return b
}

func udpFrame(src, dst netip.Addr, sp, dp uint16, payload []byte) []byte {
	b := ipv4(src, dst, 17, 8+len(payload))
	var u [8]byte
	binary.BigEndian.PutUint16(u[0:], sp)
	binary.BigEndian.PutUint16(u[2:], dp)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	b = append(b, u[:]...)
	return append(b, payload...)
}

func synFrame(src, dst netip.Addr, sp, dp uint16) []byte {
	b := ipv4(src, dst, 6, 20)
	var t [20]byte
	binary.BigEndian.PutUint16(t[0:], sp)
	binary.BigEndian.PutUint16(t[2:], dp)
	binary.BigEndian.PutUint32(t[4:], 1000)
	t[12] = 5 << 4
	t[13] = 0x02 // SYN
	binary.BigEndian.PutUint16(t[14:], 65535)
	return append(b, t[:]...)
}

// WriteZeek writes the traffic as a Zeek dns.log (TSV with its header).
func WriteZeek(w io.Writer, cfg Config) (Truth, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	c := cfg.withDefaults()
	fmt.Fprintf(bw, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t%s\n",
		c.Start.Format("2006-01-02-15-04-05"))
	bw.WriteString("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n")
	bw.WriteString("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n")
	n := 0
	truth, err := generate(cfg, func(ex *exchange) error {
		n++
		rtt, rcode, rcodeName, answers, ttls, ra := "-", "-", "-", "-", "-", "F"
		if !ex.noAnswer {
			rtt = fmt.Sprintf("%.6f", ex.rtt.Seconds())
			rcode, rcodeName, ra = fmt.Sprint(ex.rcode), dns.RcodeToString[ex.rcode], "T"
			var as, ts []string
			for _, a := range ex.answers {
				as = append(as, zeekAnswer(a))
				ts = append(ts, fmt.Sprintf("%d.000000", a.Header().Ttl))
			}
			if len(as) > 0 {
				answers, ttls = strings.Join(as, ","), strings.Join(ts, ",")
			}
		}
		_, err := fmt.Fprintf(bw, "%d.%06d\tC%016x\t%s\t%d\t%s\t53\tudp\t%d\t%s\t%s\t1\tC_INTERNET\t%d\t%s\t%s\t%s\tF\tF\tT\t%s\t0\t%s\t%s\tF\n",
			ex.at.Unix(), ex.at.Nanosecond()/1000, uint64(n)*0x9e3779b97f4a7c15, ex.client, ex.port, ex.serverAddr(), ex.id, rtt,
			strings.ToLower(ex.name), ex.qtype, dns.TypeToString[ex.qtype], rcode, rcodeName, ra, answers, ttls)
		return err
	})
	if err != nil {
		return truth, err
	}
	fmt.Fprintf(bw, "#close\t%s\n", c.Start.Add(c.Duration).Format("2006-01-02-15-04-05"))
	truth.Packets = 0
	return truth, bw.Flush()
}

// zeekAnswer renders an answer as Zeek does.
func zeekAnswer(rr dns.RR) string {
	switch a := rr.(type) {
	case *dns.A:
		return a.A.String()
	case *dns.AAAA:
		return a.AAAA.String()
	case *dns.MX:
		return strings.TrimSuffix(a.Mx, ".")
	case *dns.PTR:
		return strings.TrimSuffix(a.Ptr, ".")
	case *dns.CNAME:
		return strings.TrimSuffix(a.Target, ".")
	case *dns.TXT:
		s := strings.Join(a.Txt, "")
		return fmt.Sprintf("TXT %d %s", len(s), s)
	}
	return rr.String()
}
