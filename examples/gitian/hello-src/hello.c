#include <stdio.h>

int main(void)
{
    printf("Hello from a reproducible build (%s)\n", __FILE__);
    return 0;
}
