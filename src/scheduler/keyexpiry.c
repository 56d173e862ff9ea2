/* keyexpiry: api_key.expiring notifications (see keyexpiry.h). */
#include "keyexpiry.h"
#include "log.h"
#include "store_notification.h"

/* Keys handled per statement batch; a larger backlog takes several batches of the same check. */
#define KEYEXPIRY_BATCH 200
#define KEYEXPIRY_MAX_BATCHES 50

int keyexpiry_run(db *d, arena *a)
{
	int total = 0;
	for (int i = 0; i < KEYEXPIRY_MAX_BATCHES; i++) {
		int made = 0;
		if (store_notification_keys_expiring(d, a, KEYEXPIRY_BATCH, &made) != STORE_OK)
			return -1;
		total += made;
		if (made < KEYEXPIRY_BATCH)
			break;
	}
	if (total > 0)
		log_info("key expiry: %d API key%s expiring within %d days notified", total, total == 1 ? "" : "s",
			 NOTIFICATION_KEY_EXPIRY_DAYS);
	return total;
}
