/* qemu-remote-vdev: the QMP client (see mpq_qmp.h).
 *
 * QEMU is the peer the daemon serves, not a party it trusts blindly: every
 * line is checked for JSON syntax with an iterative parser (no recursion, a
 * fixed nesting limit, strict UTF-8), then for the member the conversation
 * expects at that point. The client sends one command at a time and matches
 * the reply by id. */
#include "mpq_qmp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpq_dev.h"

/* ------------------------------------------------------------------- JSON */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence starting with lead byte b0 at s[*i] (already known to
 * be >= 0x80): shortest form, no surrogates, at most U+10FFFF. */
static bool utf8_seq(const char *s, size_t n, size_t *i)
{
    const unsigned char b0 = (unsigned char)s[*i];
    uint32_t cp;
    size_t k;
    uint32_t min;
    if (b0 >= 0xC2u && b0 <= 0xDFu) {
        k = 1;
        cp = (uint32_t)b0 & 0x1Fu;
        min = 0x80u;
    } else if (b0 >= 0xE0u && b0 <= 0xEFu) {
        k = 2;
        cp = (uint32_t)b0 & 0x0Fu;
        min = 0x800u;
    } else if (b0 >= 0xF0u && b0 <= 0xF4u) {
        k = 3;
        cp = (uint32_t)b0 & 0x07u;
        min = 0x10000u;
    } else {
        return false;
    }
    if (n - *i <= k) {
        return false;
    }
    for (size_t j = 1; j <= k; j++) {
        const unsigned char b = (unsigned char)s[*i + j];
        if ((b & 0xC0u) != 0x80u) {
            return false;
        }
        cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) {
        return false;
    }
    *i += k + 1u;
    return true;
}

/* The escape sequence at s[p] (a backslash); its length, or 0 if invalid. */
static size_t json_escape(const char *s, size_t n, size_t p)
{
    if (p + 1u >= n) {
        return 0;
    }
    const char e = s[p + 1u];
    if (e == 'u') {
        bool ok = n - p >= 6u && is_hex(s[p + 2u]) && is_hex(s[p + 3u]) && is_hex(s[p + 4u]) && is_hex(s[p + 5u]);
        return ok ? 6u : 0u;
    }
    return (e != '\0' && strchr("\"\\/bfnrt", e) != NULL) ? 2u : 0u;
}

/* A string starting at the opening quote s[*i]; *i ends after the closing one. */
static bool json_string(const char *s, size_t n, size_t *i)
{
    size_t p = *i + 1u;
    while (p < n) {
        const char c = s[p];
        if (c == '"') {
            *i = p + 1u;
            return true;
        }
        if ((unsigned char)c < 0x20u) {
            return false;
        }
        if (c == '\\') {
            size_t k = json_escape(s, n, p);
            if (k == 0u) {
                return false;
            }
            p += k;
        } else if ((unsigned char)c >= 0x80u) {
            if (!utf8_seq(s, n, &p)) {
                return false;
            }
        } else {
            p++;
        }
    }
    return false;
}

static size_t digits(const char *s, size_t n, size_t p)
{
    while (p < n && is_digit(s[p])) {
        p++;
    }
    return p;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool json_number(const char *s, size_t n, size_t *i)
{
    size_t p = *i;
    size_t q;
    if (p < n && s[p] == '-') {
        p++;
    }
    if (p >= n || !is_digit(s[p])) {
        return false;
    }
    p = (s[p] == '0') ? p + 1u : digits(s, n, p);
    if (p < n && s[p] == '.') {
        q = digits(s, n, p + 1u);
        if (q == p + 1u) {
            return false;
        }
        p = q;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < n && (s[p] == '+' || s[p] == '-')) {
            p++;
        }
        q = digits(s, n, p);
        if (q == p) {
            return false;
        }
        p = q;
    }
    *i = p;
    return true;
}

static bool json_literal(const char *s, size_t n, size_t *i, const char *w)
{
    size_t len = strlen(w);
    if (n - *i < len || memcmp(s + *i, w, len) != 0) {
        return false;
    }
    *i += len;
    return true;
}

static bool json_scalar(const char *s, size_t n, size_t *i)
{
    switch (s[*i]) {
    case '"':
        return json_string(s, n, i);
    case 't':
        return json_literal(s, n, i, "true");
    case 'f':
        return json_literal(s, n, i, "false");
    case 'n':
        return json_literal(s, n, i, "null");
    default:
        return json_number(s, n, i);
    }
}

enum jmode { J_VALUE, J_VALUE_OR_END, J_KEY, J_KEY_OR_END, J_COLON, J_AFTER };

/* The validator's state: the open containers and what comes next. */
typedef struct jstate {
    char stack[MPQ_JSON_MAX_DEPTH];
    int depth;
    enum jmode m;
} jstate;

/* Close the innermost container with @c if it is the right one. */
static bool json_close(jstate *j, char c)
{
    if (j->depth == 0) {
        return false;
    }
    j->depth--;
    j->m = J_AFTER;
    const char top = j->stack[j->depth];
    const char want = (top == '{') ? '}' : ']';
    return c == want;
}

static bool json_value_step(const char *s, size_t n, size_t *i, jstate *j)
{
    const char c = s[*i];
    if (j->m == J_VALUE_OR_END && c == ']') {
        (*i)++;
        return json_close(j, c);
    }
    if (c == '{' || c == '[') {
        if (j->depth >= MPQ_JSON_MAX_DEPTH) {
            return false;
        }
        j->stack[j->depth++] = c;
        (*i)++;
        j->m = (c == '{') ? J_KEY_OR_END : J_VALUE_OR_END;
        return true;
    }
    j->m = J_AFTER;
    return json_scalar(s, n, i);
}

/* One step of the validator at the non-blank byte s[*i]; false on a syntax error. */
static bool json_step(const char *s, size_t n, size_t *i, jstate *j)
{
    const char c = s[*i];
    switch (j->m) {
    case J_VALUE_OR_END:
    case J_VALUE:
        return json_value_step(s, n, i, j);
    case J_KEY_OR_END:
    case J_KEY:
        if (j->m == J_KEY_OR_END && c == '}') {
            (*i)++;
            return json_close(j, c);
        }
        j->m = J_COLON;
        return c == '"' && json_string(s, n, i);
    case J_COLON:
        (*i)++;
        j->m = J_VALUE;
        return c == ':';
    case J_AFTER:
    default:
        (*i)++;
        if (c == ',' && j->depth > 0) {
            const char top = j->stack[j->depth - 1];
            j->m = (top == '{') ? J_KEY : J_VALUE;
            return true;
        }
        return json_close(j, c); /* false as well for anything after the top-level value */
    }
}

bool mpq_json_valid(const char *s, size_t n)
{
    jstate j;
    size_t i = 0;
    j.depth = 0;
    j.m = J_VALUE;
    for (;;) {
        while (i < n && is_ws(s[i])) {
            i++;
        }
        if (i >= n) {
            return j.m == J_AFTER && j.depth == 0;
        }
        if (!json_step(s, n, &i, &j)) {
            return false;
        }
    }
}

/* Skipping inside text already validated. */
static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && is_ws(s[i])) {
        i++;
    }
    return i;
}

static size_t skip_string(const char *s, size_t n, size_t i)
{
    (void)json_string(s, n, &i);
    return i;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
    int depth = 0;
    if (i >= n) {
        return n; /* text that ends early (not valid): nothing past it is read */
    }
    if (s[i] != '{' && s[i] != '[') {
        (void)json_scalar(s, n, &i);
        return i;
    }
    while (i < n) {
        const char c = s[i];
        if (c == '"') {
            i = skip_string(s, n, i);
            continue;
        }
        i++;
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth == 0) {
                return i;
            }
        } else {
            /* a scalar byte, a comma, a colon or blank */
        }
    }
    return i;
}

int mpq_json_get(const char *s, size_t n, const char *key, size_t *val, size_t *vlen)
{
    size_t klen = strlen(key);
    size_t i = skip_ws(s, n, 0);
    int found = 0;
    if (i >= n || s[i] != '{') {
        return -1;
    }
    i = skip_ws(s, n, i + 1u);
    while (i < n && s[i] == '"') {
        size_t ks = i + 1u;
        size_t ke = skip_string(s, n, i);
        bool match = (ke - ks - 1u == klen) && memcmp(s + ks, key, klen) == 0;
        i = skip_ws(s, n, skip_ws(s, n, ke) + 1u); /* past the colon */
        size_t vs = i;
        i = skip_value(s, n, i);
        if (match) {
            if (found != 0) {
                return -1;
            }
            found = 1;
            *val = vs;
            *vlen = i - vs;
        }
        i = skip_ws(s, n, i);
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1u);
        }
    }
    return found;
}

/* ------------------------------------------------------------ conversation */

const char *mpq_action_name(enum mpq_action a)
{
    switch (a) {
    case MPQ_ACTION_RESET: return "reset";
    case MPQ_ACTION_POWEROFF: return "poweroff";
    case MPQ_ACTION_PAUSE: return "pause";
    case MPQ_ACTION_NONE: return "none";
    default: return "unknown";
    }
}

const char *mpq_action_command(enum mpq_action a)
{
    switch (a) {
    case MPQ_ACTION_RESET: return "system_reset";
    case MPQ_ACTION_POWEROFF: return "quit";
    case MPQ_ACTION_PAUSE: return "stop";
    case MPQ_ACTION_NONE:
    default: return NULL;
    }
}

void mpq_qmp_init(mpq_qmp *q, const char *path, uint64_t now)
{
    (void)memset(q, 0, sizeof(*q));
    q->fd = -1;
    q->vm_running = true;
    q->next_id = 1;
    q->retry_at = now;
    if (path != NULL && strlen(path) < sizeof(q->path)) {
        (void)memcpy(q->path, path, strlen(path) + 1u);
    }
}

bool mpq_qmp_enabled(const mpq_qmp *q)
{
    const char first = q->path[0];
    return first != '\0';
}

bool mpq_qmp_want_write(const mpq_qmp *q)
{
    return q->fd >= 0 && q->out_off < q->out_len;
}

uint64_t mpq_qmp_deadline(const mpq_qmp *q)
{
    if (!mpq_qmp_enabled(q)) {
        return UINT64_MAX;
    }
    if (q->state == MPQ_QMP_DOWN) {
        return q->retry_at;
    }
    return q->timeout_at != 0u ? q->timeout_at : UINT64_MAX;
}

void mpq_qmp_close(mpq_qmp *q, uint64_t now)
{
    if (q->fd < 0) {
        return;
    }
    if (q->state == MPQ_QMP_ACTION) {
        q->refused++;
        mpq_log(MPQ_LOG_ERROR, "QMP: connection ended before QEMU confirmed the watchdog action (not sent again)");
    }
    (void)close(q->fd);
    q->fd = -1;
    q->state = MPQ_QMP_DOWN;
    q->in_len = 0;
    q->out_len = 0;
    q->out_off = 0;
    q->timeout_at = 0;
    q->retry_at = now + MPQ_QMP_RETRY_NS;
    q->vm_running = true; /* unknown again: the watchdog's clock runs (fail-safe) */
    q->logged_down = false;
    mpq_log(MPQ_LOG_INFO, "QMP: disconnected from %s; retrying", q->path);
}

static void flush(mpq_qmp *q, uint64_t now)
{
    while (q->fd >= 0 && q->out_off < q->out_len) {
        ssize_t w = send(q->fd, q->out + q->out_off, q->out_len - q->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && SVD_NEVER(errno == EINTR)) { /* SVD-COV-001: no handler can interrupt it */
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; /* the loop watches for writability */
        }
        if (w <= 0) {
            mpq_log(MPQ_LOG_WARN, "QMP: send: %s", w < 0 ? strerror(errno) : "nothing written");
            mpq_qmp_close(q, now);
            return;
        }
        q->out_off += (size_t)w;
    }
}

static void send_cmd(mpq_qmp *q, const char *cmd, enum mpq_qmp_state next, uint64_t now)
{
    int len = snprintf(q->out, sizeof(q->out), "{\"execute\":\"%s\",\"id\":%llu}\r\n", cmd,
                       (unsigned long long)q->next_id);
    q->out_len = (len > 0 && (size_t)len < sizeof(q->out)) ? (size_t)len : 0u;
    q->out_off = 0;
    q->wait_id = q->next_id++;
    q->state = next;
    q->timeout_at = now + MPQ_QMP_REPLY_NS;
    flush(q, now);
}

static void send_action(mpq_qmp *q, uint64_t now)
{
    const char *cmd = mpq_action_command(q->action);
    q->pending = false;
    if (cmd == NULL) {
        return;
    }
    uint64_t late = now > q->fired_at ? now - q->fired_at : 0u;
    mpq_log(MPQ_LOG_WARN, "watchdog expired: asking QEMU for %s (%llu ms after the expiry)", cmd,
            (unsigned long long)(late / 1000000u));
    q->sent++;
    send_cmd(q, cmd, MPQ_QMP_ACTION, now);
}

void mpq_qmp_fire(mpq_qmp *q, enum mpq_action a, uint64_t now)
{
    if (a == MPQ_ACTION_NONE) {
        mpq_log(MPQ_LOG_WARN, "watchdog expired: action none (logged only)");
        return;
    }
    if (!mpq_qmp_enabled(q)) {
        mpq_log(MPQ_LOG_ERROR, "watchdog expired: no QMP socket to carry out %s", mpq_action_name(a));
        return;
    }
    if (q->pending) {
        mpq_log(MPQ_LOG_WARN, "watchdog expired again while its action still waits for QMP");
        return;
    }
    q->pending = true;
    q->action = a;
    q->fired_at = now;
    if (q->state == MPQ_QMP_READY) {
        send_action(q, now);
    } else {
        mpq_log(MPQ_LOG_ERROR, "watchdog expired: %s waits until QMP at %s is ready", mpq_action_name(a), q->path);
    }
}

/* The raw token s[off..off+len) equals the literal @lit (e.g. "\"STOP\"", "true"). */
static bool token_is(const char *s, size_t off, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(s + off, lit, len) == 0;
}

static enum mpq_qmp_verdict bad(const char *why)
{
    mpq_log(MPQ_LOG_ERROR, "QMP: %s", why);
    return MPQ_QMP_BAD;
}

static enum mpq_qmp_verdict on_greeting(mpq_qmp *q, const char *s, size_t n, uint64_t now)
{
    size_t v = 0;
    size_t vl = 0;
    size_t x = 0;
    size_t xl = 0;
    if (mpq_json_get(s, n, "QMP", &v, &vl) != 1 || mpq_json_get(s + v, vl, "version", &x, &xl) != 1 ||
        s[v + x] != '{' || mpq_json_get(s + v, vl, "capabilities", &x, &xl) != 1 || s[v + x] != '[') {
        return bad("the first line is not QEMU's greeting");
    }
    send_cmd(q, "qmp_capabilities", MPQ_QMP_CAPS, now);
    return MPQ_QMP_OK;
}

static enum mpq_qmp_verdict on_event(mpq_qmp *q, const char *s, size_t off, size_t len)
{
    if (s[off] != '"') {
        return bad("event name is not a string");
    }
    if (token_is(s, off, len, "\"STOP\"")) {
        q->vm_running = false;
        mpq_log(MPQ_LOG_INFO, "QMP: VM stopped: the watchdog's clock stands still");
    } else if (token_is(s, off, len, "\"RESUME\"")) {
        q->vm_running = true;
        mpq_log(MPQ_LOG_INFO, "QMP: VM resumed");
    } else {
        mpq_log(MPQ_LOG_DEBUG, "QMP: event %.*s", (int)len, s + off);
    }
    return MPQ_QMP_OK;
}

/* A reply: {"return": ..., "id": N} or {"error": {...}, "id": N}. */
static enum mpq_qmp_verdict on_reply(mpq_qmp *q, const char *s, size_t n, bool ok, size_t roff, uint64_t now)
{
    char want[32];
    size_t io = 0;
    size_t il = 0;
    size_t r = 0;
    size_t rl = 0;
    (void)snprintf(want, sizeof(want), "%llu", (unsigned long long)q->wait_id);
    if (q->state == MPQ_QMP_READY || q->state == MPQ_QMP_GREETING || q->state == MPQ_QMP_DOWN) {
        return bad("reply to no command of ours");
    }
    if (mpq_json_get(s, n, "id", &io, &il) != 1 || !token_is(s, io, il, want)) {
        return bad("reply does not carry the id of our command");
    }
    q->timeout_at = 0;
    if (q->state == MPQ_QMP_ACTION) {
        q->state = MPQ_QMP_READY;
        if (ok) {
            q->confirmed++;
            mpq_log(MPQ_LOG_WARN, "QMP: QEMU carried out %s", mpq_action_command(q->action));
        } else {
            q->refused++;
            mpq_log(MPQ_LOG_ERROR, "QMP: QEMU refused %s", mpq_action_command(q->action));
        }
        return MPQ_QMP_OK;
    }
    if (!ok) {
        return bad(q->state == MPQ_QMP_CAPS ? "QEMU refused qmp_capabilities" : "QEMU refused query-status");
    }
    if (q->state == MPQ_QMP_CAPS) {
        send_cmd(q, "query-status", MPQ_QMP_STATUS, now);
        return MPQ_QMP_OK;
    }
    /* query-status: {"return": {"running": bool, "status": "...", ...}} */
    if (mpq_json_get(s + roff, n - roff, "running", &r, &rl) != 1 ||
        (!token_is(s + roff, r, rl, "true") && !token_is(s + roff, r, rl, "false"))) {
        return bad("query-status returned no running flag");
    }
    q->vm_running = token_is(s + roff, r, rl, "true");
    q->state = MPQ_QMP_READY;
    q->connects++;
    mpq_log(MPQ_LOG_INFO, "QMP: connected to %s (VM %s)", q->path, q->vm_running ? "running" : "stopped");
    if (q->pending) {
        send_action(q, now);
    }
    return MPQ_QMP_OK;
}

enum mpq_qmp_verdict mpq_qmp_line(mpq_qmp *q, const char *line, size_t len, uint64_t now)
{
    size_t ro = 0;
    size_t rl = 0;
    size_t eo = 0;
    size_t el = 0;
    size_t vo = 0;
    size_t vl = 0;
    int has_ret;
    int has_err;
    int has_ev;
    if (!mpq_json_valid(line, len) || mpq_json_get(line, len, "id", &vo, &vl) < 0) {
        return bad("a line that is not one JSON object");
    }
    if (q->state == MPQ_QMP_GREETING) {
        return on_greeting(q, line, len, now);
    }
    has_ret = mpq_json_get(line, len, "return", &ro, &rl);
    has_err = mpq_json_get(line, len, "error", &eo, &el);
    has_ev = mpq_json_get(line, len, "event", &vo, &vl);
    if (has_ret < 0 || has_err < 0 || has_ev < 0 || has_ret + has_err + has_ev != 1) {
        return bad("a line that is not one reply or one event");
    }
    if (has_ev == 1) {
        return on_event(q, line, vo, vl);
    }
    if (has_err == 1 && line[eo] != '{') {
        return bad("error member is not an object");
    }
    return on_reply(q, line, len, has_ret == 1, ro, now);
}

static void try_connect(mpq_qmp *q, uint64_t now)
{
    struct sockaddr_un sa;
    int fd;
    q->retry_at = now + MPQ_QMP_RETRY_NS;
    (void)memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    (void)memcpy(sa.sun_path, q->path, strlen(q->path) + 1u);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mpq_log(MPQ_LOG_ERROR, "QMP: socket: %s", strerror(errno));
        return;
    }
    if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (!q->logged_down) {
            q->logged_down = true;
            mpq_log(MPQ_LOG_INFO, "QMP: waiting for QEMU at %s (%s)", q->path, strerror(errno));
        }
        (void)close(fd);
        return;
    }
    q->fd = fd;
    q->state = MPQ_QMP_GREETING;
    q->timeout_at = now + MPQ_QMP_GREETING_NS;
    q->in_len = 0;
}

void mpq_qmp_poll(mpq_qmp *q, uint64_t now)
{
    if (!mpq_qmp_enabled(q)) {
        return;
    }
    if (q->state == MPQ_QMP_DOWN) {
        if (now >= q->retry_at) {
            try_connect(q, now);
        }
        return;
    }
    if (q->timeout_at != 0u && now >= q->timeout_at) {
        mpq_log(MPQ_LOG_ERROR, "QMP: QEMU did not answer in time");
        mpq_qmp_close(q, now);
    }
}

/* Split what arrived into lines and hand each over; false ends the connection. */
static bool take_bytes(mpq_qmp *q, const char *buf, size_t n, uint64_t now)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (q->in_len >= sizeof(q->in)) {
                q->bad_lines++;
                (void)bad("a line longer than the limit");
                return false;
            }
            q->in[q->in_len++] = buf[i];
            continue;
        }
        size_t len = q->in_len;
        q->in_len = 0;
        if (len > 0u && q->in[len - 1u] == (char)'\r') {
            len--;
        }
        if (len == 0u) {
            continue;
        }
        if (mpq_qmp_line(q, q->in, len, now) != MPQ_QMP_OK) {
            q->bad_lines++;
            return false;
        }
        if (q->fd < 0) {
            return false; /* a send failed while answering */
        }
    }
    return true;
}

void mpq_qmp_io(mpq_qmp *q, bool readable, bool writable, uint64_t now)
{
    if (q->fd < 0) {
        return;
    }
    if (writable) {
        flush(q, now);
    }
    while (readable && q->fd >= 0) {
        char buf[4096];
        ssize_t r = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (r < 0 && SVD_NEVER(errno == EINTR)) { /* SVD-COV-001: no handler can interrupt it */
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (r <= 0) {
            if (r < 0) {
                mpq_log(MPQ_LOG_WARN, "QMP: recv: %s", strerror(errno));
            } else {
                mpq_log(MPQ_LOG_INFO, "QMP: QEMU closed the connection");
            }
            mpq_qmp_close(q, now);
            return;
        }
        if (!take_bytes(q, buf, (size_t)r, now)) {
            mpq_qmp_close(q, now);
            return;
        }
    }
}
