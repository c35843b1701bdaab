"""Children in difficulty (困境儿童关爱): the "三单" model, one file per child, visits, volunteers."""
