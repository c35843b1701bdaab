"""Children in difficulty (困境儿童关爱): protection and rule foundations; the Django app follows."""
