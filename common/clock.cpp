#include "clock.h"

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
