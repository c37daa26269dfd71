/* A program of a library user, built against the installed imaddr through pkg-config. */
#include <imaddr.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	static const char address[] = "John.Smith@B\xc3\xbc" "cher.Example";
	struct imaddr_address_checker *checker;
	struct imaddr_error err;
	if (imaddr_address_checker_new(&checker, &err) != IMADDR_OK) {
		fprintf(stderr, "program: %s\n", err.message);
		return 1;
	}
	const struct imaddr_address_result *result =
		imaddr_address_checker_check(checker, address, strlen(address));
	printf("imaddr %s: %s\n", IMADDR_VERSION, result->canonical ? result->canonical : "-");
	imaddr_address_checker_free(checker);
	return 0;
}
