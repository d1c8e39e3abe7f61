// rt_ckpt.c: named binary blobs in one CRC-checked file, replaced atomically (tmp + rename).
#include "rt_ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_text.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rt_ckpt.c writes blob data in host order, which the format defines as little-endian"
#endif

#define CKPT_MAGIC "VIBCKPT1"
#define CKPT_VERSION 1u

typedef struct ckpt_blob {
    char *name;
    size_t nbytes;
    unsigned char *data;
} ckpt_blob;

struct rt_ckpt {
    ckpt_blob *items;
    int n, cap;
    char *path;         /* the file it was loaded from, for messages; NULL when built in memory */
};

// ---- blobs in memory ----

rt_ckpt *rt_ckpt_new(void) {
    return rt_xcalloc(1, sizeof(rt_ckpt));
}

void rt_ckpt_free(rt_ckpt *ck) {
    if (!ck) return;
    for (int i = 0; i < ck->n; i++) {
        free(ck->items[i].name);
        free(ck->items[i].data);
    }
    free(ck->items);
    free(ck->path);
    free(ck);
}

static ckpt_blob *find(const rt_ckpt *ck, const char *name) {
    for (int i = 0; i < ck->n; i++)
        if (strcmp(ck->items[i].name, name) == 0) return &ck->items[i];
    return NULL;
}

bool rt_ckpt_has(const rt_ckpt *ck, const char *name) {
    return find(ck, name) != NULL;
}

const void *rt_ckpt_data(const rt_ckpt *ck, const char *name, size_t *nbytes) {
    const ckpt_blob *b = find(ck, name);
    *nbytes = b ? b->nbytes : 0;
    return b ? b->data : NULL;
}

void rt_ckpt_put(rt_ckpt *ck, const char *name, const void *data, size_t nbytes) {
    RT_ASSERT(name && (data || nbytes == 0));
    ckpt_blob *b = find(ck, name);
    if (!b) {
        if (ck->n == ck->cap) {
            int cap = ck->cap ? 2 * ck->cap : 8;
            ckpt_blob *items = realloc(ck->items, (size_t)cap * sizeof *items);
            if (!items) RT_ABORT("out of memory growing a checkpoint to %d blobs", cap);
            ck->items = items;
            ck->cap = cap;
        }
        b = &ck->items[ck->n++];
        b->name = rt_xstrdup(name);
        b->data = NULL;
    }
    free(b->data);
    b->data = rt_xmalloc(nbytes);
    if (nbytes) memcpy(b->data, data, nbytes);
    b->nbytes = nbytes;
}

// The path for messages about a checkpoint.
static const char *ck_where(const rt_ckpt *ck) {
    return ck->path ? ck->path : "checkpoint";
}

rt_status rt_ckpt_get(const rt_ckpt *ck, const char *name, void *dst, size_t nbytes, rt_err *err) {
    const ckpt_blob *b = find(ck, name);
    if (!b)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: checkpoint has no '%s' (written by another "
                          "model or version); delete it to restart this point from scratch",
                          ck_where(ck), name);
    if (b->nbytes != nbytes)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: '%s' is %zu bytes in the checkpoint but %zu "
                          "are expected (the model changed since it was written); delete it to "
                          "restart this point from scratch", ck_where(ck), name, b->nbytes, nbytes);
    if (nbytes) memcpy(dst, b->data, nbytes);
    return RT_OK;
}

// ---- little-endian integers ----

static void put_u32(unsigned char *b, uint32_t x) {
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(x >> (8 * i));
}

static void put_u64(unsigned char *b, uint64_t x) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(x >> (8 * i));
}

static uint32_t get_u32(const unsigned char *b) {
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) x |= (uint32_t)b[i] << (8 * i);
    return x;
}

static uint64_t get_u64(const unsigned char *b) {
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x |= (uint64_t)b[i] << (8 * i);
    return x;
}

// zlib's crc32 takes a uInt length; feed large blocks in pieces.
static uint32_t crc_update(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = data;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32((uLong)crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

// ---- save ----

// Writes n bytes and folds them into the CRC; false on a short write.
static bool write_crc(FILE *f, const void *data, size_t n, uint32_t *crc) {
    if (n && fwrite(data, 1, n, f) != n) return false;
    *crc = crc_update(*crc, data, n);
    return true;
}

static bool write_body(FILE *f, const rt_ckpt *ck, uint32_t *crc) {
    unsigned char hdr[16];
    memcpy(hdr, CKPT_MAGIC, 8);
    put_u32(hdr + 8, CKPT_VERSION);
    put_u32(hdr + 12, (uint32_t)ck->n);
    if (!write_crc(f, hdr, sizeof hdr, crc)) return false;
    for (int i = 0; i < ck->n; i++) {
        const ckpt_blob *b = &ck->items[i];
        size_t len = strlen(b->name);
        unsigned char u[8];
        put_u32(u, (uint32_t)len);
        if (!write_crc(f, u, 4, crc) || !write_crc(f, b->name, len, crc)) return false;
        put_u64(u, (uint64_t)b->nbytes);
        if (!write_crc(f, u, 8, crc) || !write_crc(f, b->data, b->nbytes, crc)) return false;
    }
    return true;
}

// Makes the rename itself durable; best effort (some file systems refuse fsync on a directory).
static void fsync_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? rt_xstrdup(path) : rt_xstrdup(".");
    if (slash) dir[slash == path ? 1 : slash - path] = '\0';
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

rt_status rt_ckpt_save(const rt_ckpt *ck, const char *path, rt_err *err) {
    RT_ASSERT(ck->n >= 0);
    size_t plen = strlen(path);
    char *tmp = rt_xmalloc(plen + 5);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rt_err_set(err, RT_ERR_IO, "%s: cannot create checkpoint (%s); check that the directory "
                   "exists and is writable", tmp, strerror(errno));
        free(tmp);
        return RT_ERR_IO;
    }
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    bool ok = write_body(f, ck, &crc);
    if (ok) {
        unsigned char u[4];
        put_u32(u, crc);
        ok = fwrite(u, 1, 4, f) == 4;
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        remove(tmp);
        rt_err_set(err, RT_ERR_IO, "%s: cannot write checkpoint (%s); the previous checkpoint is "
                   "kept; check free disk space and permissions", path, strerror(saved));
        free(tmp);
        return RT_ERR_IO;
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        remove(tmp);
        rt_err_set(err, RT_ERR_IO, "%s: cannot replace checkpoint (%s); the previous checkpoint is "
                   "kept; check that the path is a writable file", path, strerror(saved));
        free(tmp);
        return RT_ERR_IO;
    }
    fsync_parent(path);
    free(tmp);
    return RT_OK;
}

// ---- load ----

// Walks the blob list of buf[0..end) (end excludes the CRC). With ck, adds every blob to it.
// Returns NULL when the layout is consistent, or what is wrong with it.
static const char *walk(const unsigned char *buf, size_t end, rt_ckpt *ck, char *why, size_t wsz) {
    uint32_t count = get_u32(buf + 12);
    size_t pos = 16;
    for (uint32_t i = 0; i < count; i++) {
        if (end - pos < 4) {
            snprintf(why, wsz, "ends inside the header of blob %u of %u", i + 1, count);
            return why;
        }
        uint32_t len = get_u32(buf + pos);
        pos += 4;
        if (end - pos < (uint64_t)len + 8) {
            snprintf(why, wsz, "ends inside the name of blob %u of %u", i + 1, count);
            return why;
        }
        const unsigned char *name = buf + pos;
        pos += len;
        uint64_t nbytes = get_u64(buf + pos);
        pos += 8;
        if (end - pos < nbytes) {
            snprintf(why, wsz, "blob %u of %u needs %llu bytes, %zu are left", i + 1, count,
                     (unsigned long long)nbytes, end - pos);
            return why;
        }
        if (ck) {
            char *s = rt_xmalloc((size_t)len + 1);
            memcpy(s, name, len);
            s[len] = '\0';
            rt_ckpt_put(ck, s, buf + pos, (size_t)nbytes);
            free(s);
        }
        pos += (size_t)nbytes;
    }
    if (pos != end) {
        snprintf(why, wsz, "%zu unexpected bytes after the last blob", end - pos);
        return why;
    }
    return NULL;
}

rt_ckpt *rt_ckpt_load(const char *path, rt_err *err) {
    size_t size = 0;
    errno = 0;
    unsigned char *buf = (unsigned char *)rt_read_file(path, &size);
    if (!buf) {
        rt_err_set(err, RT_ERR_IO, "%s: cannot read checkpoint (%s); check the path, or run "
                   "without --resume to start this point from scratch", path, strerror(errno ? errno : EIO));
        return NULL;
    }
    const char *damaged = "delete it to restart this point from scratch";
    char why[160];
    rt_ckpt *ck = NULL;
    if (size < 8 || memcmp(buf, CKPT_MAGIC, 8) != 0) {
        rt_err_set(err, RT_ERR_FORMAT, "%s: not a vibrun checkpoint (bad magic); %s", path, damaged);
    } else if (size < 20) {
        rt_err_set(err, RT_ERR_FORMAT, "%s: checkpoint is truncated (%zu bytes); %s", path, size,
                   damaged);
    } else if (get_u32(buf + 8) != CKPT_VERSION) {
        rt_err_set(err, RT_ERR_FORMAT, "%s: checkpoint format version %u, this vibrun reads "
                   "version %u; %s", path, get_u32(buf + 8), CKPT_VERSION, damaged);
    } else if (walk(buf, size - 4, NULL, why, sizeof why)) {
        rt_err_set(err, RT_ERR_FORMAT, "%s: checkpoint is truncated or damaged (%s); %s", path,
                   why, damaged);
    } else if (crc_update((uint32_t)crc32(0L, Z_NULL, 0), buf, size - 4) != get_u32(buf + size - 4)) {
        rt_err_set(err, RT_ERR_FORMAT, "%s: checkpoint is damaged (CRC mismatch); %s", path,
                   damaged);
    } else {
        ck = rt_ckpt_new();
        ck->path = rt_xstrdup(path);
        const char *again = walk(buf, size - 4, ck, why, sizeof why);
        RT_ASSERT(again == NULL);       // the same walk passed above
    }
    free(buf);
    return ck;
}
