package generate

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// role is what a host does; it decides who logs in and whether the
// Internet can reach its sshd.
type role uint8

const (
	roleBastion role = iota
	roleWeb
	roleDB
	roleApp
	roleCache
	roleMQ
	roleMon
)

var roleNames = [...]string{"bastion", "web", "db", "app", "cache", "mq", "mon"}

// rolePattern assigns roles to hosts after the first (the bastion).
var rolePattern = [...]role{roleWeb, roleWeb, roleDB, roleApp, roleWeb, roleCache, roleApp, roleDB, roleMQ, roleMon}

type host struct {
	name     string
	role     role
	public   bool  // reachable from the Internet (bastion, web)
	pid      int32 // last pid handed out
	logind   int32 // systemd-logind pid
	listener int32 // sshd listener pid
	session  int32 // last logind session number
	cronOff  int   // minute offset of the host's */10 cron job
	cronUser string
}

type user struct {
	name     string
	admin    bool // has sudo and uses it
	password bool // logs in by password (else publickey)
	service  bool // deploy/backup-style service account
	ips      []uint32
	hosts    []int32
	fp       string      // publickey fingerprint
	rate     [24]float64 // expected sessions per hour of day
	home     string
}

var firstNames = [...]string{
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
	"karl", "laura", "nina", "oscar", "paula", "quentin", "rita", "sven", "tara", "ulrich",
	"vera", "walter", "xenia", "yusuf", "zoe", "amir", "bianca", "chen", "dmitri", "elena",
	"fatima", "goran", "hana", "igor", "jonas", "kemal", "lucia", "marek", "noor", "olga",
}

var lastNames = [...]string{
	"kim", "ng", "weber", "rossi", "silva", "novak", "berg", "costa", "sato", "meyer",
	"lopez", "khan", "ito", "moreau", "jansen", "horvat", "dubois", "ortiz", "popov", "wong",
	"nakamura", "fischer", "garcia", "kowalski", "nielsen", "ahmed", "bauer", "conti", "duarte", "egger",
}

// systemAccounts exist on every host but nobody logs in with them; attackers
// guess them.
var systemAccounts = [...]string{"ubuntu", "git", "postgres", "jenkins", "nagios"}

// dictionary holds names that do not exist in the fleet and that Internet
// scanners try. It must not contain fleet accounts or backdoor names.
var dictionary = [...]string{
	"admin", "test", "user", "oracle", "guest", "ftpuser", "pi", "ubnt", "usuario", "administrator",
	"test1", "test2", "user1", "tester", "demo", "web", "www", "webmaster", "mysql", "minecraft",
	"teamspeak", "ts3", "steam", "hadoop", "spark", "elastic", "es", "kafka", "zookeeper", "redis",
	"mongo", "mongodb", "sonar", "nexus", "tomcat", "wildfly", "jboss", "odoo", "vagrant", "docker",
	"k8s", "kube", "centos", "fedora", "debian", "ec2-user", "azureuser", "opc", "cloud", "cloud-user",
	"student", "teacher", "info", "sales", "office", "mail", "postfix", "dovecot", "ftp", "ftptest",
	"sftp", "upload", "dev", "developer", "devops", "deployer", "gitlab", "gitlab-runner", "svn", "bitcoin",
	"btc", "miner", "zabbix", "monitor", "helpdesk", "operator", "manager", "master", "server", "system",
	"sysadmin", "toor", "1234", "123456", "abc", "qwerty", "default", "user2", "testuser", "temp",
	"tmp", "public", "share", "samba", "nfs", "openvpn", "vpn", "asterisk", "voip", "csgo",
	"factorio", "terraria", "arma3", "deluge", "transmission", "plex", "media", "kodi", "pihole", "openhab",
	"odroid", "orangepi", "raspberry", "ansible", "puppet", "chef", "salt", "hduser", "weblogic", "db2inst1",
}

var nameSuffixes = [...]string{"1", "01", "2", "123", "2024", "_test", "3", "99", "0", "12"}

// backdoors are the accounts a break-in creates.
var backdoors = [...]string{"support", "sysadm", "updater", "svc-sync", "helpdesk2", "backupadm"}

var adminCommands = [...]string{
	"/usr/bin/apt update", "/usr/bin/apt upgrade -y", "/usr/bin/systemctl restart nginx",
	"/usr/bin/systemctl status postgresql", "/usr/bin/journalctl -u nginx --since today",
	"/usr/bin/tail -n 200 /var/log/syslog", "/usr/bin/docker ps", "/usr/bin/docker compose pull",
	"/usr/bin/du -sh /var/lib/docker", "/usr/sbin/ufw status", "/usr/bin/systemctl reload haproxy",
	"/usr/bin/df -h", "/usr/sbin/iptables -L -n", "/usr/bin/apt install -y htop",
	"/usr/bin/certbot renew --dry-run", "/usr/bin/systemctl restart postgresql", "/usr/bin/crontab -l",
	"/usr/bin/systemctl daemon-reload", "/usr/bin/journalctl -p err -b", "/usr/bin/lsof -i :443",
}

var adminDirs = [...]string{"/etc/nginx", "/var/log", "/srv/app", "/etc/systemd/system"}

var deployCommands = [...]string{
	"/usr/bin/systemctl restart app.service", "/usr/bin/systemctl reload nginx",
	"/usr/bin/systemctl restart worker.service",
}

var kexOffers = [...]string{
	"diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1",
	"diffie-hellman-group1-sha1",
	"diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1",
}

var badProtocols = [...]string{"GET / HTTP/1.1", "GET / HTTP/1.0", "SSH-2.0-Go", "\\003"}

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// fleet is the simulated organisation.
type fleet struct {
	hosts    []host
	public   []int32 // indices of Internet-facing hosts
	byRole   [len(roleNames)][]int32
	users    []user // people, then service accounts
	people   int    // users[:people] are people
	admins   []int32
	deploy   int32 // index of the deploy account
	backup   int32 // index of the backup account
	accounts []string
	noise    []string // invalid names for Internet noise
}

func hostName(r role, n int) string {
	name := roleNames[r]
	if r == roleBastion && n == 1 {
		return name
	}
	if n < 10 {
		return name + "-0" + strconv.Itoa(n)
	}
	return name + "-" + strconv.Itoa(n)
}

func personName(i int) string {
	f := firstNames[i%len(firstNames)]
	if i < len(firstNames) {
		return f
	}
	j := i / len(firstNames)
	l := lastNames[(j-1)%len(lastNames)]
	name := f + "." + l
	if k := (j - 1) / len(lastNames); k > 0 {
		name += strconv.Itoa(k + 1)
	}
	return name
}

// newFleet builds nHosts hosts and nUsers people plus service accounts.
func newFleet(rng *rand.Rand, nHosts, nUsers int) *fleet {
	f := &fleet{}
	var counts [len(roleNames)]int
	for i := 0; i < nHosts; i++ {
		r := roleBastion
		if i > 0 && i%50 != 0 {
			r = rolePattern[(i-1-i/50)%len(rolePattern)]
		}
		counts[r]++
		h := host{
			name:     hostName(r, counts[r]),
			role:     r,
			public:   r == roleBastion || r == roleWeb,
			pid:      int32(2000 + rng.IntN(60000)),
			logind:   int32(380 + rng.IntN(900)),
			listener: int32(600 + rng.IntN(900)),
			session:  int32(1 + rng.IntN(3000)),
			cronOff:  rng.IntN(10),
			cronUser: "root",
		}
		if r == roleDB {
			h.cronUser = "postgres"
		}
		f.hosts = append(f.hosts, h)
		f.byRole[r] = append(f.byRole[r], int32(i))
		if h.public {
			f.public = append(f.public, int32(i))
		}
	}
	for i := 0; i < nUsers; i++ {
		f.users = append(f.users, f.newPerson(rng, i))
		if f.users[i].admin {
			f.admins = append(f.admins, int32(i))
		}
	}
	if len(f.admins) == 0 {
		f.users[0].admin = true
		f.admins = append(f.admins, 0)
	}
	f.people = nUsers
	f.deploy = int32(len(f.users))
	f.users = append(f.users, f.newService(rng, "deploy", 0x0a000514, f.targets(roleWeb, roleApp)))
	f.backup = int32(len(f.users))
	f.users = append(f.users, f.newService(rng, "backup", 0x0a00051e, f.targets(roleDB)))
	for _, u := range f.users {
		f.accounts = append(f.accounts, u.name)
	}
	f.accounts = append(f.accounts, systemAccounts[:]...)
	return f
}

func (f *fleet) targets(roles ...role) []int32 {
	var out []int32
	for _, r := range roles {
		out = append(out, f.byRole[r]...)
	}
	if len(out) == 0 {
		out = append(out, 0)
	}
	return out
}

func (f *fleet) newPerson(rng *rand.Rand, i int) user {
	u := user{name: personName(i)}
	u.home = "/home/" + u.name
	u.admin = i%3 == 0
	u.password = rng.IntN(10) < 3
	// Habitual addresses, unique per person: office desk, VPN, sometimes a
	// second site.
	a, b := uint32(1+i/200), uint32(10+i%200)
	u.ips = append(u.ips, 10<<24|20<<16|a<<8|b, 10<<24|8<<16|a<<8|b)
	if rng.IntN(10) < 3 {
		u.ips = append(u.ips, 172<<24|16<<16|a<<8|b)
	}
	// Habitual hosts: admins land on the bastion and work on db/app hosts;
	// developers on web/app hosts.
	n := min(1+rng.IntN(3), len(f.hosts))
	if u.admin && len(f.byRole[roleBastion]) > 0 {
		u.hosts = append(u.hosts, f.byRole[roleBastion][rng.IntN(len(f.byRole[roleBastion]))])
	}
	for len(u.hosts) < n {
		h := int32(rng.IntN(len(f.hosts)))
		dup := false
		for _, x := range u.hosts {
			dup = dup || x == h
		}
		if !dup {
			u.hosts = append(u.hosts, h)
		}
	}
	u.fp = fingerprint(rng)
	// Personal hour profile: most people centre on office hours, some on
	// late shifts or another time zone.
	centre := 9.5 + rng.NormFloat64()*1.5 + 4*rng.Float64()
	switch rng.IntN(10) {
	case 0:
		centre = 20 + 4*rng.Float64()
	case 1:
		centre = 3 + 3*rng.Float64()
	}
	sigma := 1.5 + 1.5*rng.Float64()
	perDay := 3 + 5*rng.Float64()
	u.rate = hourProfile(centre, sigma, perDay)
	return u
}

func (f *fleet) newService(rng *rand.Rand, name string, ip uint32, hosts []int32) user {
	u := user{name: name, service: true, hosts: hosts, fp: fingerprint(rng), home: "/home/" + name}
	for i := uint32(0); i < 4; i++ {
		u.ips = append(u.ips, ip+i)
	}
	if name == "deploy" {
		// a few deploys per target host, in working hours
		u.rate = hourProfile(13, 3, 2.5*float64(len(hosts)))
	} else {
		// nightly backups, one per target host
		u.rate = hourProfile(2.5, 0.4, float64(len(hosts)))
	}
	return u
}

// hourProfile spreads perDay sessions over the 24 hours of the day as a
// wrapped normal around centre with the given spread.
func hourProfile(centre, sigma, perDay float64) [24]float64 {
	var p [24]float64
	sum := 0.0
	for h := 0; h < 24; h++ {
		d := math.Abs(float64(h) + 0.5 - centre)
		d = math.Min(d, 24-d)
		p[h] = math.Exp(-d*d/(2*sigma*sigma)) + 0.002
		sum += p[h]
	}
	for h := range p {
		p[h] *= perDay / sum
	}
	return p
}

func fingerprint(rng *rand.Rand) string {
	var b [43]byte
	for i := range b {
		b[i] = b64[rng.IntN(64)]
	}
	return string(b[:])
}

// noiseNames returns n names for Internet noise: the dictionary, then
// dictionary names with the suffixes scanners add.
func noiseNames(n int) []string {
	if n < len(dictionary) {
		n = len(dictionary)
	}
	out := make([]string, 0, n)
	out = append(out, dictionary[:]...)
	for i := 0; len(out) < n; i++ {
		d := dictionary[i%len(dictionary)]
		s := nameSuffixes[(i/len(dictionary))%len(nameSuffixes)]
		if r := i / (len(dictionary) * len(nameSuffixes)); r > 0 {
			s += strconv.Itoa(r)
		}
		out = append(out, d+s)
	}
	return out
}

// ipAlloc hands out distinct public-looking IPv4 addresses: a counter
// mapped through a bijection of the 32-bit space, skipping private,
// reserved, documentation and multicast ranges. Two allocators with
// disjoint counter ranges never return the same address.
type ipAlloc struct {
	next uint32
	add  uint32
}

func (a *ipAlloc) take() uint32 {
	for {
		x := a.next*0x9E3779B1 + a.add
		a.next++
		if isPublic(x) {
			return x
		}
	}
}

func isPublic(x uint32) bool {
	o1, o2, o3, o4 := x>>24, x>>16&0xff, x>>8&0xff, x&0xff
	switch {
	case o4 == 0 || o4 == 255:
		return false
	case o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224:
		return false
	case o1 == 100 && o2&0xc0 == 64: // 100.64.0.0/10
		return false
	case o1 == 169 && o2 == 254, o1 == 172 && o2&0xf0 == 16, o1 == 192 && o2 == 168:
		return false
	case o1 == 192 && o2 == 0 && (o3 == 0 || o3 == 2): // 192.0.0.0/24, 192.0.2.0/24
		return false
	case o1 == 198 && (o2 == 18 || o2 == 19): // 198.18.0.0/15
		return false
	case o1 == 198 && o2 == 51 && o3 == 100, o1 == 203 && o2 == 0 && o3 == 113:
		return false
	}
	return true
}

// docAddrs returns the addresses of the three documentation networks
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) in a seeded order.
func docAddrs(rng *rand.Rand) []uint32 {
	nets := [...]uint32{192<<24 | 0<<16 | 2<<8, 198<<24 | 51<<16 | 100<<8, 203<<24 | 0<<16 | 113<<8}
	var out []uint32
	for _, n := range nets {
		for h := uint32(2); h < 255; h++ {
			out = append(out, n|h)
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
