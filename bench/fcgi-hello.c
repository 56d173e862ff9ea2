/* fcgi-hello: the smallest libfcgi responder; bench/run uses it to measure the FastCGI ceiling. */
#include <fcgiapp.h>

/* One fixed response, written with FCGX_PutStr (never FCGX_FPrintF, whose printf is its own). */
static const char hello_response[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 11\r\n"
	"\r\n"
	"{\"ok\":true}";

int main(void)
{
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(hello_response, (int)(sizeof hello_response - 1), req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
