#include "clock.h"

#include <cstring>

int encode_ts(uint64_t ns, char *out) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + ns % 10);
        ns /= 10;
    } while (ns);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\n';
    return n + 1;
}

bool decode_ts(const char *in, int len, uint64_t *ns) {
    if (len < 2 || len > 21 || in[len - 1] != '\n') return false;
    uint64_t v = 0;
    for (int i = 0; i < len - 1; i++) {
        unsigned d = (unsigned char)in[i] - '0';
        if (d > 9) return false;
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *ns = v;
    return true;
}

int echo_piece(const char *tx, int tx_len, char *rx, int rx_len, const char *piece, int n) {
    if (n > tx_len - rx_len) return -1;  // more than we sent
    memcpy(rx + rx_len, piece, (size_t)n);
    rx_len += n;
    uint64_t ns;
    if (rx_len == tx_len && (memcmp(rx, tx, (size_t)tx_len) != 0 || !decode_ts(rx, rx_len, &ns)))
        return -1;
    return rx_len;
}
